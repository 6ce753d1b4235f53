"""Scopes: a `read` key may only read; writing with it is a 403 (its own organisation's object,
so not a 404). Objects of another organisation or of a store the key may not serve are 404s:
the selectors say so before any permission is asked about them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

from tenants.principals import is_key

if TYPE_CHECKING:
    from rest_framework.views import APIView


class KeyScope(permissions.BasePermission):
    message = "This API key may only read (scope 'read'); writing needs a key with scope 'write'."
    code = "insufficient_scope"

    def has_permission(self, request: Request, view: APIView) -> bool:
        member = request.auth
        if not is_key(member):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return member.api_key.can_write


class AllStores(permissions.BasePermission):
    """For organisation-wide resources (webhook subscriptions): a key limited to some stores
    would see events of every store through them."""

    message = "A key limited to some stores cannot manage organisation-wide settings."
    code = "permission_denied"

    def has_permission(self, request: Request, view: APIView) -> bool:
        member = request.auth
        return is_key(member) and not member.api_key.limited_to_stores
