"""TikTok Shop webhook intake: verify, store once, acknowledge; a task does the work.

The acknowledgement must be fast (TikTok retries what it does not see acknowledged): one signature
check on the raw body, one INSERT, and the task is enqueued after commit. No marketplace call here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.db import without_nul

from .services import webhook_event_receive
from .tiktok.signing import verify_webhook

logger = logging.getLogger(__name__)

_MAX_ID_LENGTH = 64
# Topic numbers are small positive integers (contract §8.3); the column is a 32-bit integer.
_MAX_TYPE = 2**31 - 1
# TikTok's notifications nest three or four levels; anything far deeper is refused before it is
# stored (a JSON document nested past Python's recursion limit cannot even be parsed).
_MAX_DEPTH = 32


class _MalformedEnvelope(ValueError):
    pass


def _id_field(envelope: dict[str, Any], name: str, *, required: bool) -> str:
    """An id the contract sends as a string; a JSON number is accepted as the same digits."""
    value = envelope.get(name)
    if value is None or value == "":
        if required:
            raise _MalformedEnvelope(f"{name} is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _MalformedEnvelope(f"{name} is not a string")
    text = str(value).strip()
    if not text or len(text) > _MAX_ID_LENGTH:
        raise _MalformedEnvelope(f"{name} is empty or too long")
    return text


def _depth(document: Any) -> int:
    """How deeply `document` nests (a scalar is 0), without recursion."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, level = pending.pop()
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if level + 1 > _MAX_DEPTH:
                    return level + 1
                pending.append((child, level + 1))
        deepest = max(deepest, level)
    return deepest


def _parse_envelope(body: bytes) -> tuple[dict[str, Any], str, int, str]:
    try:
        envelope = json.loads(body)
    except RecursionError as exc:
        raise _MalformedEnvelope("body is nested too deeply") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise _MalformedEnvelope("body is not JSON") from exc
    if not isinstance(envelope, dict):
        raise _MalformedEnvelope("body is not a JSON object")
    # Both walks only when the raw body could need them (a few brackets cannot nest deeply; a
    # NUL in a JSON string is always the escape \u0000): the acknowledgement stays cheap.
    if body.count(b"{") + body.count(b"[") > _MAX_DEPTH and _depth(envelope) > _MAX_DEPTH:
        raise _MalformedEnvelope(f"body is nested more than {_MAX_DEPTH} levels deep")
    if b"\\u0000" in body:
        # PostgreSQL (jsonb, text) cannot hold U+0000: removed here as ingest removes it.
        envelope = without_nul(envelope)
    webhook_type = envelope.get("type")
    if isinstance(webhook_type, bool) or not isinstance(webhook_type, int):
        raise _MalformedEnvelope("type is not an integer")
    if not 0 <= webhook_type <= _MAX_TYPE:
        raise _MalformedEnvelope("type is not a topic number")
    notification_id = _id_field(envelope, "tts_notification_id", required=True)
    shop_id = _id_field(envelope, "shop_id", required=False)
    return envelope, notification_id, webhook_type, shop_id


@csrf_exempt
@require_POST
def tiktok_webhook(request: HttpRequest) -> JsonResponse:
    body = request.body
    app_key, app_secret = settings.TIKTOK_APP_KEY, settings.TIKTOK_APP_SECRET
    # Header values arrive decoded as latin-1: a non-ASCII one cannot be a hex signature.
    signature = request.headers.get("Authorization", "")
    if not signature.isascii():
        signature = ""
    # Without a configured secret nothing can be verified, so nothing is accepted.
    if not (app_key and app_secret and signature) or not verify_webhook(
        app_key, app_secret, body, signature
    ):
        logger.warning("Webhook refused: missing or invalid signature (%d bytes)", len(body))
        return JsonResponse({"code": 401, "message": "invalid signature"}, status=401)
    try:
        envelope, notification_id, webhook_type, shop_id = _parse_envelope(body)
    except _MalformedEnvelope as exc:
        logger.warning("Webhook refused: %s", exc)
        return JsonResponse({"code": 400, "message": f"malformed notification: {exc}"}, status=400)
    event = webhook_event_receive(
        notification_id=notification_id,
        webhook_type=webhook_type,
        shop_id=shop_id,
        payload=envelope,
    )
    # A duplicate is acknowledged like the first delivery, or TikTok would keep retrying it.
    message = "duplicate" if event is None else "success"
    return JsonResponse({"code": 0, "message": message})
