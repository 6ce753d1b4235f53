"""Customer service (§6): conversations, messages, sending, images, agent settings."""

from __future__ import annotations

import json
from collections.abc import Iterator

from marketplaces.records import (
    TEXT_MAX_CHARS,
    AgentSettings,
    Conversation,
    Message,
    OutgoingContent,
    Page,
    TextContent,
    UploadedImage,
)
from marketplaces.tiktok import mapping

from .images import prepare_image
from .transport import Transport

CONVERSATION_PAGE_SIZE = 20  # §6.1: max 20
MESSAGE_PAGE_SIZE = 10  # §6.1: max 10


class CustomerServiceApi(Transport):
    """Customer service (§6)."""

    def conversation_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        page_token: str | None = None,
        locale: str | None = None,
        page_size: int = CONVERSATION_PAGE_SIZE,
    ) -> Iterator[Page[Conversation]]:
        return self._pages(
            "GET",
            "/customer_service/202309/conversations",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="conversations",
            to_record=mapping.conversation,
            page_size=page_size,
            page_token=page_token,
            extra_query={"locale": locale} if locale else None,
        )

    def conversations(
        self, *, access_token: str, shop_cipher: str, locale: str | None = None
    ) -> list[Conversation]:
        """All conversations of the shop, across pages (a conversation seen twice counts once)."""
        seen: dict[str, Conversation] = {}
        for page in self.conversation_pages(
            access_token=access_token, shop_cipher=shop_cipher, locale=locale
        ):
            for item in page.items:
                seen.setdefault(item.external_id, item)
        return list(seen.values())

    def messages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        conversation_id: str,
        after_index: str | None = None,
        locale: str | None = None,
        page_size: int = MESSAGE_PAGE_SIZE,
    ) -> list[Message]:
        """Messages of a conversation, oldest first by `index` (§6.3).

        Pages are asked newest first, so with `after_index` (the newest index already stored)
        paging stops at the first page that reaches it and only newer messages are returned.
        Reading messages does not mark them read (§6.1).
        """
        query = {"sort_field": "index", "sort_order": "DESC"}
        if locale:
            query["locale"] = locale
        cursor = mapping.index_key(after_index) if after_index else None
        found: dict[str, Message] = {}
        for page in self._pages(
            "GET",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="messages",
            to_record=lambda item: mapping.message(item, conversation_id),
            page_size=page_size,
            extra_query=query,
        ):
            reached_cursor = False
            for item in page.items:
                if cursor is not None and mapping.index_key(item.index) <= cursor:
                    reached_cursor = True
                    continue
                found.setdefault(item.external_id or item.index, item)
            if reached_cursor:
                break
        return sorted(found.values(), key=lambda item: mapping.index_key(item.index))

    def send_message(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        conversation_id: str,
        content: OutgoingContent,
    ) -> str:
        """Send one message (§6.2) and return its id. `content` goes as a JSON *string*.

        Raises OutcomeUnknownError when the platform may have sent it (timeout, 5xx).
        """
        if isinstance(content, TextContent) and len(content.text) > TEXT_MAX_CHARS:
            raise ValueError(f"A text message is limited to {TEXT_MAX_CHARS} characters.")
        body = {
            "type": str(content.type),
            "content": json.dumps(content.to_content(), ensure_ascii=False, separators=(",", ":")),
        }
        data = self._call(
            "POST",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            access_token=access_token,
            shop_cipher=shop_cipher,
            body=body,
            idempotent=False,
        )
        return mapping.ident(data.get("message_id")) or ""

    def mark_read(self, *, access_token: str, shop_cipher: str, conversation_id: str) -> None:
        """Mark the buyer's messages read (§6.1: no body)."""
        self._call(
            "POST",
            f"/customer_service/202309/conversations/{conversation_id}/messages/read",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )

    def create_conversation(
        self, *, access_token: str, shop_cipher: str, buyer_user_id: str
    ) -> str:
        """Open (or reopen) a conversation with a buyer (order `user_id`); returns its id."""
        data = self._call(
            "POST",
            "/customer_service/202309/conversations",
            access_token=access_token,
            shop_cipher=shop_cipher,
            body={"buyer_user_id": buyer_user_id},
            idempotent=False,
        )
        return mapping.ident(data.get("conversation_id")) or ""

    def upload_image(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        image: bytes,
        filename: str = "image",
    ) -> UploadedImage:
        """Upload an image for an IMAGE message (§6.1): multipart field `data`, body not signed.

        The product's limits are applied first (`prepare_image`): JPEG/PNG/GIF/WEBP up to 15 MB,
        recompressed when over 10 MB. Raises ValueError for anything else, before any request.
        """
        prepared = prepare_image(image, max_pixels=self.config.image_max_pixels)
        stem = filename.rsplit(".", 1)[0] if "." in filename else filename
        data = self._call(
            "POST",
            "/customer_service/202309/images/upload",
            access_token=access_token,
            shop_cipher=shop_cipher,
            files={"data": (f"{stem}.{prepared.extension}", prepared.data, prepared.content_type)},
        )
        return mapping.uploaded_image(data)

    def agent_settings(self, *, access_token: str, shop_cipher: str) -> AgentSettings:
        data = self._call(
            "GET",
            "/customer_service/202309/agents/settings",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return mapping.agent_settings(data)

    def update_agent_settings(
        self, *, access_token: str, shop_cipher: str, can_accept_chat: bool
    ) -> None:
        self._call(
            "PUT",
            "/customer_service/202309/agents/settings",
            access_token=access_token,
            shop_cipher=shop_cipher,
            body={"can_accept_chat": can_accept_chat},
        )
