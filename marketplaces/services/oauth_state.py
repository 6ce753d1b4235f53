"""Connect state: the signed, single-use `state` of the consent page and its callback."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core import signing
from django.utils import timezone

from tenants.models import Membership, User

from ..models import Market, OAuthState

OAUTH_STATE_TTL = timedelta(minutes=15)
_STATE_SALT = "marketplaces.oauth-state"


class OAuthStateError(Exception):
    """The `state` of a connect callback is forged, expired, used or someone else's."""


def oauth_state_issue(*, membership: Membership, market: str) -> str:
    """A signed, single-use `state` for the consent page, bound to this person and tenant."""
    now = timezone.now()
    state = OAuthState.objects.create(
        nonce=secrets.token_urlsafe(32),
        tenant=membership.tenant,
        user=membership.user,
        market=Market(market),
        created_at=now,
        expires_at=now + OAUTH_STATE_TTL,
    )
    return signing.dumps(state.nonce, salt=_STATE_SALT)


def oauth_state_consume(*, state: str, user: User) -> OAuthState:
    """The connect attempt behind `state`, marked used; raises OAuthStateError otherwise."""
    try:
        nonce = signing.loads(state, salt=_STATE_SALT, max_age=OAUTH_STATE_TTL)
    except signing.SignatureExpired:
        raise OAuthStateError("This connection attempt has expired. Please start again.") from None
    except signing.BadSignature:
        raise OAuthStateError("This connection link is not valid. Please start again.") from None
    now = timezone.now()
    # The conditional update is the single-use guarantee: of two callbacks racing with the same
    # state, exactly one changes the row.
    used = OAuthState.objects.filter(
        nonce=nonce, user=user, used_at=None, expires_at__gt=now
    ).update(used_at=now)
    if not used:
        raise OAuthStateError(
            "This connection link was already used, has expired or belongs to someone else. "
            "Please start again."
        )
    return OAuthState.objects.select_related("tenant").get(nonce=nonce)
