"""The base of every API view: key authentication, scopes, rate limit, size-limited parsers,
cursor pagination, the error body and `Idempotency-Key` on POST.

Subclass `APIViewSet` (or `APIView` for a single operation), read the caller from `self.member`
(tenants.principals.KeyMember: pass it as `membership=` to selectors and services) and
`self.tenant`, and call the app's selectors and services: an API view holds no rules of its own.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework import exceptions, views, viewsets
from rest_framework.parsers import FormParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.models import Tenant
from tenants.principals import KeyMember

from . import idempotency
from .authentication import BearerKeyAuthentication
from .pagination import KeysetPagination
from .parsers import LimitedJSONParser, LimitedMultiPartParser
from .permissions import KeyScope
from .throttling import KeyRateThrottle


class _Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__("replayed")
        self.response = response


class StrictSerializerMixin:
    """Unknown fields in a request body are an error, not silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) or hasattr(data, "keys"):
            known = set(self.fields)  # type: ignore[attr-defined]
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise exceptions.ValidationError(
                    {name: ["This field is not known."] for name in unknown}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class KeyViewMixin:
    authentication_classes = [BearerKeyAuthentication]
    permission_classes = [KeyScope]
    throttle_classes = [KeyRateThrottle]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    pagination_class = KeysetPagination

    request: Request
    _idempotency: idempotency.Claim | None = None

    @property
    def member(self) -> KeyMember:
        return self.request.auth  # type: ignore[return-value]

    @property
    def tenant(self) -> Tenant:
        return self.member.tenant

    # --- Idempotency-Key on POST ------------------------------------------------------------
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency = None
        if request.method == "POST":
            key = idempotency.key_of(request)
            if key is not None:
                outcome = idempotency.claim(tenant_id=self.tenant.pk, key=key, request=request)
                if isinstance(outcome, HttpResponse):
                    raise _Replay(outcome)  # the handler does not run again
                self._idempotency = outcome

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if self._idempotency is not None:
            idempotency.finish(self._idempotency, response)
            self._idempotency = None
        return response

    def raise_uncaught_exception(self, exc: Exception) -> None:
        if self._idempotency is not None:
            idempotency.release(self._idempotency)
            self._idempotency = None
        super().raise_uncaught_exception(exc)  # type: ignore[misc]


class APIViewSet(KeyViewMixin, viewsets.GenericViewSet):
    lookup_field = "public_id"
    lookup_value_regex = "[^/]+"


class APIView(KeyViewMixin, views.APIView):
    pass


MULTIPART_PARSERS = [LimitedJSONParser, LimitedMultiPartParser, FormParser]

__all__ = ["MULTIPART_PARSERS", "APIView", "APIViewSet", "Response", "StrictSerializerMixin"]
