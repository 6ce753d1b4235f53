"""Authorization: token grants and shops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketplaces.records import Shop, TokenGrant

from .scalars import _list, enum_value, ident, integer, text, timestamp

_TOKEN_FIELDS = frozenset({"access_token", "refresh_token"})


# --- Authorization ------------------------------------------------------------------------------


def token_grant(data: Mapping[str, Any]) -> TokenGrant:
    """Token get/refresh `data`. The `*_expire_in` fields are absolute timestamps (§1.4)."""
    return TokenGrant(
        access_token=text(data.get("access_token")),
        access_token_expires_at=timestamp(data.get("access_token_expire_in")),
        refresh_token=text(data.get("refresh_token")),
        refresh_token_expires_at=timestamp(data.get("refresh_token_expire_in")),
        open_id=ident(data.get("open_id")) or "",
        seller_name=text(data.get("seller_name")),
        seller_base_region=text(data.get("seller_base_region")),
        user_type=integer(data.get("user_type")),
        granted_scopes=[text(scope) for scope in _list(data.get("granted_scopes"))],
        raw={key: value for key, value in data.items() if key not in _TOKEN_FIELDS},
    )


def shop(data: Mapping[str, Any]) -> Shop:
    return Shop(
        external_id=ident(data.get("id")) or "",
        name=text(data.get("name")),
        region=text(data.get("region")),
        seller_type=enum_value(data.get("seller_type")),
        cipher=text(data.get("cipher")),
        code=text(data.get("code")),
        raw=dict(data),
    )
