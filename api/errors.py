"""One error body for every 4xx and 5xx of /api/:

    {"error": {"code": "not_found", "message": "No such ticket.", "fields": {}}}

`code` is stable and machine-readable, `message` is for a person, `fields` maps request fields
to their messages (validation errors). DRF's own errors (401, 403, 404, 405, 415, 429, malformed
JSON) go through `exception_handler`; URLs no route matches and uncaught exceptions under /api/
through `json_404` / `json_500` (config.urls' handlers call them).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _fields(detail: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as flat dotted names: {"image": [...], "lines.0.sku": [...]}."""
    fields: dict[str, list[str]] = {}
    for name, value in detail.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            fields.update(_fields(value, f"{key}."))
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    fields.update(_fields(item, f"{key}.{index}."))
                elif item:
                    fields.setdefault(key, []).extend(_flatten(item))
        else:
            fields[key] = _flatten(value)
    return fields


def _code_of(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler with our body. Anything else stays uncaught (a 500, logged, see json_500)."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*(exc.args or ("Not found.",)))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*(exc.args or ()))
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        fields = _fields(detail)
        general = fields.pop("non_field_errors", [])
        message = " ".join(general) if general else "Some fields are not valid."
        if general and not fields:
            message = " ".join(general)
        body = error_body("invalid", message, fields)
    else:
        messages = _flatten(detail)
        body = error_body(_code_of(exc), " ".join(messages) or str(exc.default_detail))
    from rest_framework.views import set_rollback  # imported late: views import our parsers

    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_404(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def json_500(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "Something went wrong on our side. It was logged."), status=500
    )
