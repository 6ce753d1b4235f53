"""How a message that arrived as an e-mail is drawn in the thread: its subject and sender, the
quoted history folded, its attachments (with size and type, or why one was not kept), and a link
to its formatted body, which the e-mail channel serves in a sandboxed frame.

Only what `Message.content["email"]` holds is read here: the inbox shows an e-mail without
knowing how it was fetched (the channel's own package does that)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse

from .models import Conversation, Message


@dataclass(frozen=True, slots=True)
class AttachmentView:
    name: str
    kind: str  # "PDF · 1.2 MB"
    url: str  # "" when it was not kept
    refused: str


@dataclass(frozen=True, slots=True)
class EmailView:
    subject: str
    sender: str  # "Ann Buyer <ann@buyer.test>"
    quoted: str
    body_url: str  # the formatted body without remote images ("" for a plain-text e-mail)
    images_url: str  # the same with remote images ("" when it has none)
    frame_name: str
    attachments: list[AttachmentView] = field(default_factory=list)


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _kind(content_type: str) -> str:
    main, _, sub = content_type.partition("/")
    return (sub or main).upper()[:20] if content_type else "FILE"


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the e-mail channel is not installed: shown without its parts
        return ""


def email_view(message: Message, conversation: Conversation) -> EmailView | None:
    content = message.content if isinstance(message.content, dict) else {}
    mail = content.get("email")
    if not isinstance(mail, dict):
        return None
    ids = (str(conversation.public_id), str(message.public_id))
    body_url = _url("email_message_body", *ids) if mail.get("html") else ""
    name = mail.get("from_name") or ""
    address = mail.get("from") or ""
    attachments = []
    for number, item in enumerate(mail.get("attachments") or [], start=1):
        if not isinstance(item, dict):
            continue
        kept = bool(item.get("path"))
        attachments.append(
            AttachmentView(
                name=str(item.get("name") or "attachment"),
                kind=f"{_kind(str(item.get('content_type') or ''))} · "
                f"{size_text(int(item.get('size') or 0))}",
                url=_url("email_message_attachment", *ids, number) if kept else "",
                refused=str(item.get("refused") or ""),
            )
        )
    return EmailView(
        subject=str(mail.get("subject") or "(no subject)"),
        sender=f"{name} <{address}>" if name and address else address,
        quoted=str(mail.get("quoted") or ""),
        body_url=body_url,
        images_url=f"{body_url}?images=1" if body_url and "<img" in mail.get("html", "") else "",
        frame_name=f"mail-{uuid.UUID(ids[1]).hex}",
        attachments=attachments,
    )
