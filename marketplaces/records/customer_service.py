"""Customer service: messages, conversations, uploads; outgoing message content (§6.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .common import JSON
from .products import Image
from .statuses import MessageType, SenderRole


@dataclass(frozen=True, slots=True)
class MessageSender:
    im_user_id: str | None
    role: str
    nickname: str
    avatar_url: str | None


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message. `content` is the decoded content object, `content_raw` the string sent.

    The typed fields below are filled for the types that carry them; a type Sellerdesk does not
    know keeps `type` and `content` as sent, so the mailbox can show a placeholder.
    """

    external_id: str
    conversation_id: str | None
    index: str
    type: str
    created_at: datetime | None
    is_visible: bool
    sender: MessageSender
    content: JSON
    content_raw: str
    text: str | None
    image: Image | None
    product_id: str | None
    order_id: str | None
    sku_id: str | None
    coupon_id: str | None
    package_id: str | None
    video_id: str | None
    raw: JSON = field(repr=False)

    @property
    def is_known_type(self) -> bool:
        return self.type in MessageType.__members__


@dataclass(frozen=True, slots=True)
class Participant:
    im_user_id: str | None
    user_id: str | None
    role: str
    nickname: str
    avatar_url: str | None
    buyer_platform: str


@dataclass(frozen=True, slots=True)
class Conversation:
    external_id: str
    participant_count: int | None
    can_send_message: bool
    unread_count: int
    created_at: datetime | None
    participants: list[Participant]
    latest_message: Message | None
    raw: JSON = field(repr=False)

    @property
    def buyer(self) -> Participant | None:
        return next((p for p in self.participants if p.role == SenderRole.BUYER), None)


@dataclass(frozen=True, slots=True)
class UploadedImage:
    url: str
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class AgentSettings:
    can_accept_chat: bool
    raw: JSON = field(repr=False)


# --- Outgoing message content (contract §6.2) ---------------------------------------------------

TEXT_MAX_CHARS = 2000


@dataclass(frozen=True, slots=True)
class TextContent:
    text: str
    type = MessageType.TEXT

    def __post_init__(self) -> None:
        # The length limit is the channel's (`ChannelCapabilities.text_max_chars`): TikTok's
        # client checks its 2,000 characters, an e-mail may be longer.
        if not self.text.strip():
            raise ValueError("A text message cannot be empty.")

    def to_content(self) -> JSON:
        return {"content": self.text}


@dataclass(frozen=True, slots=True)
class ImageContent:
    url: str
    width: int
    height: int
    type = MessageType.IMAGE

    def to_content(self) -> JSON:
        return {"url": self.url, "width": self.width, "height": self.height}


@dataclass(frozen=True, slots=True)
class VideoContent:
    vid: str
    type = MessageType.VIDEO

    def to_content(self) -> JSON:
        return {"vid": self.vid}


@dataclass(frozen=True, slots=True)
class ProductCardContent:
    product_id: str
    type = MessageType.PRODUCT_CARD

    def to_content(self) -> JSON:
        return {"product_id": self.product_id}


@dataclass(frozen=True, slots=True)
class OrderCardContent:
    order_id: str
    type = MessageType.ORDER_CARD

    def to_content(self) -> JSON:
        return {"order_id": self.order_id}


@dataclass(frozen=True, slots=True)
class ReturnRefundCardContent:
    order_id: str
    sku_id: str
    type = MessageType.RETURN_REFUND_CARD

    def to_content(self) -> JSON:
        return {"order_id": self.order_id, "sku_id": self.sku_id}


@dataclass(frozen=True, slots=True)
class CouponCardContent:
    coupon_id: str
    type = MessageType.COUPON_CARD

    def to_content(self) -> JSON:
        return {"coupon_id": self.coupon_id}


@dataclass(frozen=True, slots=True)
class LogisticsCardContent:
    order_id: str
    package_id: str | None = None
    type = MessageType.LOGISTICS_CARD

    def to_content(self) -> JSON:
        content: JSON = {"order_id": self.order_id}
        if self.package_id:
            content["package_id"] = self.package_id
        return content


OutgoingContent = (
    TextContent
    | ImageContent
    | VideoContent
    | ProductCardContent
    | OrderCardContent
    | ReturnRefundCardContent
    | CouponCardContent
    | LogisticsCardContent
)
