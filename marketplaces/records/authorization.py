"""Authorization: token grants and the shops a token may act for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .common import JSON


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """Tokens from token get/refresh; `raw` has the tokens removed so it can be stored as is."""

    access_token: str = field(repr=False)
    access_token_expires_at: datetime | None
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: datetime | None
    open_id: str
    seller_name: str
    seller_base_region: str
    user_type: int | None
    granted_scopes: list[str]
    raw: JSON = field(repr=False)


@dataclass(frozen=True, slots=True)
class Shop:
    external_id: str
    name: str
    region: str
    seller_type: str
    cipher: str
    code: str
    raw: JSON = field(repr=False)
