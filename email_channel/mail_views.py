"""An e-mail's own parts in the mailbox: its HTML body (in a sandboxed frame, remote images
blocked until the agent asks) and its attachments. Served only to people who may see the
ticket: another organisation's message, or a store the agent does not serve, is a 404."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from inbox import selectors as inbox_selectors
from inbox.models import Message
from tenants.decorators import tenant_required

from .parse import without_remote_images

# Shown inline (an image opens in the browser); everything else downloads.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})

BODY_PAGE = """<!doctype html><html><head><meta charset="utf-8"><base target="_blank">
<style>body{{font:14px/1.5 system-ui,sans-serif;margin:8px;color:#1f2328;word-wrap:break-word}}
img{{max-width:100%;height:auto}}blockquote{{margin:0 0 0 .5em;padding-left:.5em;
border-left:2px solid #d0d7de;color:#57606a}}</style></head><body>{body}</body></html>"""


def _email_message(request: HttpRequest, public_id: str, message_id: str) -> tuple[Message, Any]:
    conversation = inbox_selectors.conversation_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=request.membership,  # type: ignore[attr-defined]
        public_id=public_id,
    )
    message = inbox_selectors.message_get(conversation=conversation, public_id=message_id)
    mail = message.content.get("email") if isinstance(message.content, dict) else None
    if not isinstance(mail, dict):
        raise Http404("This message is not an e-mail.")
    return message, mail


@tenant_required
@require_GET
@xframe_options_sameorigin
def message_body(request: HttpRequest, public_id: str, message_id: str) -> HttpResponse:
    """The e-mail's sanitised HTML as its own small page, for the thread's sandboxed frame.
    `?images=1` loads remote images; without it they are not even addressed."""
    _, mail = _email_message(request, public_id, message_id)
    sanitized = mail.get("html") or ""
    images = request.GET.get("images") == "1"
    if sanitized:
        body = sanitized if images else without_remote_images(sanitized)
    else:
        body = f"<pre>{escape(mail.get('quoted') or '')}</pre>"
    response = HttpResponse(BODY_PAGE.format(body=body))
    # Stricter than the site's policy: no script at all, images only when asked, and only
    # this site may frame it.
    image_sources = "data: https: http:" if images else "data:"
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"img-src {image_sources}; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@tenant_required
@require_GET
def message_attachment(
    request: HttpRequest, public_id: str, message_id: str, number: int
) -> HttpResponse:
    _, mail = _email_message(request, public_id, message_id)
    attachments = mail.get("attachments") or []
    if not 1 <= number <= len(attachments) or not attachments[number - 1].get("path"):
        raise Http404("No such attachment.")
    attachment = attachments[number - 1]
    try:
        stored = default_storage.open(attachment["path"], "rb")
    except OSError as error:
        raise Http404("This attachment is no longer stored.") from error
    content_type = attachment.get("content_type") or "application/octet-stream"
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        stored,
        content_type=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=attachment.get("name") or "attachment",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
