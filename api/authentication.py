"""`Authorization: Bearer <key>`: the organisation's API key, looked up by its prefix and checked
against its hash (djangorestframework-api-key) on every request, so a revoked key is refused at
once."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tenants.models import APIKey
from tenants.principals import KeyMember

# last_used_at is written at most this often per key: it is bookkeeping, and a GET should not
# cost a write each time.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class KeyUser:
    """request.user for an API call: authenticated, and no person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, member: KeyMember) -> None:
        self.member = member

    def __str__(self) -> str:
        return self.member.label


class BearerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[KeyUser, KeyMember] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        keyword, _, secret = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            raise exceptions.AuthenticationFailed(
                "Send the API key as 'Authorization: Bearer <key>'."
            )
        secret = secret.strip()
        if not secret or " " in secret or len(secret) > 200:
            raise exceptions.AuthenticationFailed("The API key is malformed.")
        prefix, _, _ = secret.partition(".")
        key = APIKey.objects.select_related("tenant").filter(prefix=prefix).first()
        if key is None or key.revoked or key.has_expired or not key.is_valid(secret):
            raise exceptions.AuthenticationFailed("This API key is not valid or was revoked.")
        now = timezone.now()
        if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
            APIKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        member = KeyMember(key)
        return KeyUser(member), member

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
