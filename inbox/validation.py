"""The composer's rules, shared by the reply service and the composer form.

A reply is checked here before anything is stored or sent, against the limits its channel
declares (`ChannelCapabilities`; TikTok Shop: text at most 2,000 characters, an image of at most
15 MB that is a JPEG, PNG, GIF or WEBP): text not empty unless an image is attached, and an image
decided by opening it with Pillow, never by its file name or the type the browser declared, so a
renamed executable is refused; and of at most IMAGE_MAX_PIXELS pixels (25 megapixels), read from
its header before anything is decoded. Errors carry one list of messages per form field, so the
form shows them next to the composer and keeps the draft.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from marketplaces.channel import ChannelCapabilities, ImageLimits, registered_channels

ImageInput = UploadedFile | IO[bytes] | bytes


class ReplyInvalidError(Exception):
    """The reply breaks a composer rule; `errors` maps form field names to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors

    def messages_for(self, field_name: str) -> list[str]:
        return self.errors.get(field_name, [])


@dataclass(frozen=True, slots=True)
class CheckedImage:
    data: bytes = field(repr=False)
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class CheckedReply:
    text: str
    image: CheckedImage | None


def shortest_text_limit() -> int:
    """The smallest text limit of any channel: what a snippet (usable on every channel) may hold."""
    return min(channel.capabilities.text_max_chars for channel in registered_channels())


def normalise_text(text: str | None) -> str:
    """Browsers submit a textarea's line breaks as CRLF; the composer's counter (and TikTok) count
    a line break as one character, so the limit is applied to the text as the buyer will see it."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def check_text(text: str | None, *, has_image: bool, max_chars: int) -> tuple[str, list[str]]:
    """The text to send ("" for an image alone) and the errors found."""
    normalised = normalise_text(text)
    if len(normalised) > max_chars:
        return normalised, [
            f"A reply is limited to {max_chars:,} characters; this one has {len(normalised):,}."
        ]
    if not normalised.strip():
        if has_image:
            return "", []
        return "", ["Write a reply or attach an image."]
    return normalised, []


def _size_of(image: ImageInput) -> int | None:
    if isinstance(image, bytes):
        return len(image)
    size = getattr(image, "size", None)
    return int(size) if isinstance(size, int) else None


def _read(image: ImageInput, max_bytes: int) -> bytes:
    if isinstance(image, bytes):
        return image
    if hasattr(image, "seek"):
        image.seek(0)
    # One byte past the limit is enough to know it is too big, whatever the declared size says.
    data = image.read(max_bytes + 1)
    if hasattr(image, "seek"):
        image.seek(0)
    return bytes(data)


def _format_names(limits: ImageLimits) -> str:
    names = list(limits.formats)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def check_image(image: ImageInput, limits: ImageLimits) -> tuple[CheckedImage | None, list[str]]:
    """Open the file as an image: its content decides, never its name or declared type."""
    from PIL import Image as PILImage

    declared = _size_of(image)
    if declared is not None and declared > limits.max_bytes:
        return None, [_too_big(declared, limits)]
    data = _read(image, limits.max_bytes)
    if len(data) > limits.max_bytes:
        return None, [_too_big(len(data), limits)]
    if not data:
        return None, ["The attached file is empty."]
    refused = f"Only {_format_names(limits)} images can be sent; this file is not one of them."
    max_pixels = settings.IMAGE_MAX_PIXELS
    limit = f"Images are limited to {max_pixels / 1_000_000:g} megapixels"
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own limit; ours is lower and checked below, from the header.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            opened = PILImage.open(io.BytesIO(data))
    except PILImage.DecompressionBombError:
        return None, [f"{limit}; this one has far more."]
    except (OSError, SyntaxError, ValueError):
        return None, [refused]
    try:
        with opened:
            kind = opened.format or ""
            width, height = opened.size
            if kind not in limits.formats:
                return None, [refused]
            if width * height > max_pixels:
                # Told by the header alone: nothing is decoded (memory grows with pixels).
                megapixels = round(width * height / 1_000_000)
                size = f"{width} \N{MULTIPLICATION SIGN} {height}"
                return None, [f"{limit}; this one is {size} ({megapixels} megapixels)."]
            opened.verify()  # a truncated or corrupt file fails here, not at TikTok
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError):
        return None, [refused]
    return (
        CheckedImage(data, limits.formats[kind], limits.extensions[kind], width, height),
        [],
    )


def _too_big(size: int, limits: ImageLimits) -> str:
    megabytes = limits.max_bytes // (1024 * 1024)
    return f"Images are limited to {megabytes} MB; this one is {size / (1024 * 1024):.1f} MB."


def validate_reply(
    *, text: str | None, image: ImageInput | None = None, capabilities: ChannelCapabilities
) -> CheckedReply:
    """The reply as it will be stored on a channel with these capabilities, or
    ReplyInvalidError with every problem found."""
    errors: dict[str, list[str]] = {}
    checked_image: CheckedImage | None = None
    if image is not None:
        if capabilities.image is None or not capabilities.can_send("IMAGE"):
            errors["image"] = [f"{capabilities.name} does not take images."]
        else:
            checked_image, image_errors = check_image(image, capabilities.image)
            if image_errors:
                errors["image"] = image_errors
    # With an image attached (even a refused one) an empty text is not reported as well: the
    # image's own error is the one to fix.
    clean_text, text_errors = check_text(
        text, has_image=image is not None, max_chars=capabilities.text_max_chars
    )
    if text_errors:
        errors["text"] = text_errors
    if errors:
        raise ReplyInvalidError(errors)
    return CheckedReply(text=clean_text, image=checked_image)
