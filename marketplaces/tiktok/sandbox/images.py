"""Images the sandbox serves itself (product pictures, avatars, buyer photos): all offline."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, UnidentifiedImageError

ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


def generated_png(label: str, color: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    """A flat-colour PNG with a short label: recognisable in a browser, a few hundred bytes."""
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, size[0] - 5, size[1] - 5), outline=(255, 255, 255), width=3)
    draw.text((12, size[1] // 2 - 6), label[:24], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def inspect_image(data: bytes) -> tuple[str, int, int] | None:
    """(content type, width, height) of an uploaded image, or None if it is not an accepted one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    content_type = ACCEPTED_FORMATS.get(image_format)
    if content_type is None:
        return None
    return content_type, width, height
