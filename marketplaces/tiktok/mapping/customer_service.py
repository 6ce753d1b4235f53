"""Customer service: messages and their content, conversations, uploads, agent settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from marketplaces.records import (
    JSON,
    AgentSettings,
    Conversation,
    Message,
    MessageSender,
    MessageType,
    Participant,
    UploadedImage,
)

from .scalars import _dict, _image, dicts, enum_value, flag, ident, integer, logger, text, timestamp

# --- Customer service ---------------------------------------------------------------------------

# Types whose content is {"content": "..."} text (§6.3).
_TEXT_TYPES = frozenset(
    {
        MessageType.TEXT,
        MessageType.ALLOCATED_SERVICE,
        MessageType.NOTIFICATION,
        MessageType.BUYER_ENTER_FROM_TRANSFER,
        MessageType.OTHER,
    }
)


def message_content(content: Any) -> tuple[JSON, str]:
    """(decoded object, string as sent). Content is a JSON string; an object is accepted too."""
    if isinstance(content, dict):
        return content, json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    content_raw = text(content)
    try:
        decoded = json.loads(content_raw) if content_raw else {}
    except ValueError:
        logger.info("Message content is not JSON; kept as text")
        return {"content": content_raw}, content_raw
    if not isinstance(decoded, dict):  # a bare JSON string is text; anything else stays as sent
        return {"content": decoded if isinstance(decoded, str) else content_raw}, content_raw
    return decoded, content_raw


def message_sender(data: Mapping[str, Any]) -> MessageSender:
    return MessageSender(
        im_user_id=ident(data.get("im_user_id")),
        role=enum_value(data.get("role")),
        nickname=text(data.get("nickname")),
        avatar_url=text(data.get("avatar")) or None,
    )


def message(data: Mapping[str, Any], conversation_id: str | None = None) -> Message:
    """A message from Get Conversation Messages, `latest_message`, or webhook type 14."""
    kind = enum_value(data.get("type"))
    content, content_raw = message_content(data.get("content"))
    image = _image(content) if kind == MessageType.IMAGE else None
    message_text = text(content.get("content")) if "content" in content else None
    if kind not in _TEXT_TYPES and kind in MessageType.__members__:
        message_text = None  # cards and media carry ids, not text
    return Message(
        external_id=ident(data.get("id", data.get("message_id"))) or "",
        conversation_id=ident(data.get("conversation_id")) or conversation_id,
        index=text(data.get("index")),
        type=kind,
        created_at=timestamp(data.get("create_time")),
        is_visible=flag(data.get("is_visible", True)),
        sender=message_sender(_dict(data.get("sender"))),
        content=content,
        content_raw=content_raw,
        text=message_text,
        image=image,
        product_id=ident(content.get("product_id")),
        order_id=ident(content.get("order_id")),
        sku_id=ident(content.get("sku_id")),
        coupon_id=ident(content.get("coupon_id")),
        package_id=ident(content.get("package_id")),
        video_id=ident(content.get("vid")),
        raw=dict(data),
    )


def participant(data: Mapping[str, Any]) -> Participant:
    return Participant(
        im_user_id=ident(data.get("im_user_id")),
        user_id=ident(data.get("user_id")),
        role=enum_value(data.get("role")),
        nickname=text(data.get("nickname")),
        avatar_url=text(data.get("avatar")) or None,
        buyer_platform=enum_value(data.get("buyer_platform")),
    )


def conversation(data: Mapping[str, Any]) -> Conversation:
    external_id = ident(data.get("id")) or ""
    latest = _dict(data.get("latest_message"))
    return Conversation(
        external_id=external_id,
        participant_count=integer(data.get("participant_count")),
        can_send_message=flag(data.get("can_send_message")),
        unread_count=integer(data.get("unread_count")) or 0,
        created_at=timestamp(data.get("create_time")),
        participants=[participant(item) for item in dicts(data.get("participants"))],
        latest_message=message(latest, external_id) if latest else None,
        raw=dict(data),
    )


def uploaded_image(data: Mapping[str, Any]) -> UploadedImage:
    return UploadedImage(
        url=text(data.get("url")),
        width=integer(data.get("width")),
        height=integer(data.get("height")),
    )


def agent_settings(data: Mapping[str, Any]) -> AgentSettings:
    return AgentSettings(can_accept_chat=flag(data.get("can_accept_chat")), raw=dict(data))
