"""Outgoing images: checked by their content and made to fit the upload limit (§6.1)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

# Outgoing images (contract "How to use this sheet"): the product accepts up to 15 MB, the limit
# TikTok's own helpdesk connector documents; two secondary sources give 10 MB for the upload API,
# so anything larger is recompressed to fit both.
IMAGE_ACCEPT_LIMIT = 15 * 1024 * 1024
IMAGE_UPLOAD_LIMIT = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# Decoding costs memory by pixels, not bytes: a 12,000 x 12,000 PNG of one colour is a few MB on
# disk and ~1.7 GB once decoded and recompressed. Read from the header, refused before decoding
# (the IMAGE_MAX_PIXELS setting; the composer applies the same limit, inbox/validation.py).
IMAGE_MAX_PIXELS = 25_000_000


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    recompressed: bool

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg"}.get(self.content_type, self.content_type.split("/")[-1])


def prepare_image(image: bytes, *, max_pixels: int = IMAGE_MAX_PIXELS) -> PreparedImage:
    """Check an outgoing image by its content and make it fit the upload limit.

    Over 10 MB it becomes a JPEG (quality, then size, stepped down; an animated GIF keeps its
    first frame). Raises ValueError for a file over 15 MB, one with more than `max_pixels`
    pixels (told by its header, before anything is decoded), or one that is not a supported image.
    """
    from PIL import Image as PILImage

    if len(image) > IMAGE_ACCEPT_LIMIT:
        raise ValueError("Images are limited to 15 MB.")
    too_many = f"Images are limited to {max_pixels / 1_000_000:g} megapixels."
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own limit; ours is lower and checked just below.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            opened = PILImage.open(io.BytesIO(image))
    except PILImage.DecompressionBombError as exc:
        raise ValueError(too_many) from exc
    except OSError as exc:
        raise ValueError("The file is not an image that can be sent.") from exc
    try:
        with opened:
            kind, (width, height) = opened.format or "", opened.size
            if kind not in IMAGE_FORMATS:
                raise ValueError("Only JPEG, PNG, GIF and WEBP images can be sent.")
            if width * height > max_pixels:
                raise ValueError(too_many)
            if len(image) <= IMAGE_UPLOAD_LIMIT:
                return PreparedImage(image, IMAGE_FORMATS[kind], width, height, recompressed=False)
            picture = opened.convert("RGBA")
    except (OSError, PILImage.DecompressionBombError) as exc:
        raise ValueError("The file is not an image that can be sent.") from exc
    flat = PILImage.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=picture.getchannel("A"))  # transparency onto white, as chat shows it
    for quality, scale in ((85, 1.0), (75, 1.0), (75, 0.75), (70, 0.5), (65, 0.35), (60, 0.25)):
        size = (max(1, int(flat.width * scale)), max(1, int(flat.height * scale)))
        resized = flat if scale == 1.0 else flat.resize(size, PILImage.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= IMAGE_UPLOAD_LIMIT:
            return PreparedImage(buffer.getvalue(), "image/jpeg", *resized.size, recompressed=True)
    raise ValueError("The image could not be made small enough to send.")
