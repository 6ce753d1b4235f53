"""Request bodies: JSON, and multipart for a reply with an image. Each has a size limit checked
before the body is read (Content-Length) and while reading it, answered 413 in the error body."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import parsers

from .errors import PayloadTooLarge


def json_limit() -> int:
    return int(getattr(settings, "API_MAX_JSON_BYTES", 1024 * 1024))


def multipart_limit() -> int:
    # A 15 MB image (the composer's limit) and its form around it.
    return int(getattr(settings, "API_MAX_UPLOAD_BYTES", 16 * 1024 * 1024))


def check_length(request: Any, limit: int) -> None:
    meta = getattr(request, "META", {})
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge(f"The request body is limited to {limit:,} bytes.")


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None):
        limit = json_limit()
        request = (parser_context or {}).get("request")
        if request is not None:
            check_length(request, limit)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is limited to {limit:,} bytes.")
        import io

        return super().parse(io.BytesIO(body), media_type, parser_context)


class LimitedMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None):
        request = (parser_context or {}).get("request")
        if request is not None:
            check_length(request, multipart_limit())
        return super().parse(stream, media_type, parser_context)
