"""Who acts: a person's Membership, or an API key acting in its organisation like a member.

Selectors and services take `membership=`; an API request passes a `KeyMember` instead, which
answers the same questions (tenant, role, store limits through
`marketplaces.selectors.allowed_store_ids`) so that the API calls the very functions the pages
call. A key has no user: what it writes carries `actor_trace()` ("via API key <name>") instead.
"""

from __future__ import annotations

from typing import Any

from .models import ROLE_RANK, APIKey, Membership, Role


class KeyMember:
    """An API key in the shape of a Membership.

    A key limited to some stores is an agent limited to them; any other key is an admin (it may
    edit the snippet library). Its scope (read/write) is checked by the API's permissions before
    any service runs.
    """

    is_api_key = True
    user = None
    user_id = None

    def __init__(self, api_key: APIKey) -> None:
        self.api_key = api_key
        self.tenant = api_key.tenant
        self.tenant_id = api_key.tenant_id
        # Unique and never equal to a Membership pk: code that keys caches on `membership.pk`
        # (compiled SQL, folder counts) keeps keys apart from members and from each other.
        self.pk = f"key:{api_key.public_id}"
        self.public_id = api_key.public_id
        self.role = Role.AGENT if api_key.limited_to_stores else Role.ADMIN

    def __repr__(self) -> str:
        return f"<KeyMember {self.api_key.prefix} tenant={self.tenant_id} {self.role}>"

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]

    def get_role_display(self) -> str:
        return f"API key ({self.api_key.get_scope_display()})"

    @property
    def can_manage_members(self) -> bool:
        return False

    @property
    def label(self) -> str:
        return f"API key {self.api_key.name}"


Actor = Membership | KeyMember


def is_key(actor: object) -> bool:
    return getattr(actor, "is_api_key", False) is True


def actor_trace(actor: object) -> dict[str, Any]:
    """What a history row keeps about an API key that acted ({} for a person: `actor` says)."""
    if not is_key(actor):
        return {}
    key = actor.api_key  # type: ignore[attr-defined]
    return {"via": {"api_key": str(key.public_id), "name": key.name}}


def actor_name(actor: object) -> str:
    """The name shown for who wrote something: the person's, or "API key <name>"."""
    if is_key(actor):
        return actor.label  # type: ignore[attr-defined]
    user = actor.user  # type: ignore[attr-defined]
    return user.get_full_name().strip() or user.email


def via_label(data: object) -> str:
    """ "API key <name>" when a history row's data says an API key acted, else ""."""
    via = data.get("via") if isinstance(data, dict) else None
    if isinstance(via, dict) and via.get("name"):
        return f"API key {via['name']}"
    return ""
