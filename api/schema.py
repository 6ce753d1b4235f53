"""OpenAPI 3.1 by drf-spectacular: the Bearer security scheme, `Idempotency-Key` on every POST,
and the error body on every operation (a postprocessing hook, so no view can forget them)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable."},
                "message": {"type": "string", "description": "For a person."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages per request field (validation errors).",
                },
            },
        }
    },
}

ALWAYS = {
    "400": "Invalid request (see `fields`).",
    "401": "No API key, or a key that is not valid or was revoked.",
    "403": "The key's scope or store limits do not allow this.",
    "404": "No such object in your organisation (or in the stores this key serves).",
    "429": "Rate limit reached; retry after `Retry-After` seconds.",
}
WRITES = {
    "409": "Conflicts with the current state, or the same Idempotency-Key is still running.",
    "413": "The request body is too large.",
    "415": "Unsupported Content-Type.",
    "422": "The Idempotency-Key was used for a different request, or the action cannot be done.",
}


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of your organisation (Settings → API keys).",
        }


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def add_common_parts(result: dict[str, Any], generator: Any, request: Any, public: bool):
    """Postprocessing hook (SPECTACULAR_SETTINGS)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = dict(ALWAYS)
            if method != "get":
                codes.update(WRITES)
            for code, description in codes.items():
                responses.setdefault(code, _error_response(description))
            responses.setdefault("default", _error_response("Any other error."))
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                parameters.append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": (
                            "Makes the POST safe to retry for 24 hours: the same key with the "
                            "same body replays the first answer; with another body it is a "
                            "422; while the first is running, a 409."
                        ),
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                )
    return result
