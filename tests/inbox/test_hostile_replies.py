"""Hostile input around replies and the thread: attachments the form itself refuses, images with
more pixels than the product decodes, a reply image whose file is gone, image URLs that are not
http(s), and text with a NUL character."""

from __future__ import annotations

import io
import zlib
from struct import pack

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from inbox.models import Conversation, Message, TicketStatus
from inbox.validation import ReplyInvalidError, validate_reply
from marketplaces.tiktok.adapter import CAPABILITIES as TIKTOK
from marketplaces.tiktok.client import prepare_image
from tests.factories_inbox import ConversationFactory, MessageFactory, OutboxMessageFactory
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def conversation(tenant):
    return ConversationFactory(store=StoreFactory(tenant=tenant, name="Acme US"))


def reply_url(conversation: Conversation) -> str:
    return reverse("ticket_reply", args=[conversation.public_id])


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height: a valid header and one tiny compressed row of zeros
    (a real 12,000 x 12,000 PNG of one colour is well under 15 MB; decoding it needs ~1.7 GB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    header = pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * (width * 3 + 1)))
        + chunk(b"IEND", b"")
    )


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    return buffer.getvalue()


# --- The form's own check -----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain form"])
def test_an_attachment_the_form_refuses_is_not_sent_and_the_draft_is_kept(
    owner_client, conversation, django_capture_on_commit_callbacks, htmx
):
    empty = SimpleUploadedFile("photo.png", b"", "image/png")
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(
            reply_url(conversation),
            {"mode": "reply", "text": "Here is the photo", "image": empty, "next_status": "solved"},
            **(HX if htmx else {}),
        )

    assert response.status_code == 400
    page = response.content.decode()
    assert "The submitted file is empty." in page
    assert ">Here is the photo</textarea>" in page
    assert callbacks == []
    assert Message.objects.filter(conversation=conversation).count() == 0
    conversation.refresh_from_db()
    assert conversation.status == TicketStatus.OPEN


# --- Pixels ---------------------------------------------------------------------------------------


def test_an_image_with_too_many_pixels_is_refused_by_its_header(settings):
    settings.IMAGE_MAX_PIXELS = 25_000_000
    giant = png_header_only(12_000, 12_000)
    assert len(giant) < 15 * 1024 * 1024

    with pytest.raises(ReplyInvalidError) as refused:
        validate_reply(text="", image=giant, capabilities=TIKTOK)

    assert refused.value.errors == {
        "image": [
            "Images are limited to 25 megapixels; "
            "this one is 12000 \N{MULTIPLICATION SIGN} 12000 (144 megapixels)."
        ]
    }


def test_an_image_at_the_pixel_limit_passes(settings):
    settings.IMAGE_MAX_PIXELS = 5_000 * 5_000
    checked = validate_reply(text="", image=png_header_only(5_000, 5_000), capabilities=TIKTOK)
    assert (checked.image.width, checked.image.height) == (5_000, 5_000)


def test_the_form_shows_the_pixel_limit_and_keeps_the_text(owner_client, conversation, settings):
    settings.IMAGE_MAX_PIXELS = 25_000_000
    image = SimpleUploadedFile("huge.png", png_header_only(12_000, 12_000), "image/png")

    response = owner_client.post(
        reply_url(conversation), {"mode": "reply", "text": "Look", "image": image}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "this one is 12000 \N{MULTIPLICATION SIGN} 12000 (144 megapixels)" in page
    assert ">Look</textarea>" in page
    assert Message.objects.filter(conversation=conversation).count() == 0


def test_the_send_worker_refuses_to_decode_a_giant_image(settings, monkeypatch):
    """An image stored before the limit (or by another path) is refused before any decoding."""
    settings.IMAGE_MAX_PIXELS = 25_000_000
    decoded: list[str] = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append("load"))
    giant = png_header_only(12_000, 12_000) + b"\x00" * (11 * 1024 * 1024)  # over 10 MB

    with pytest.raises(ValueError, match="limited to 25 megapixels"):
        prepare_image(giant)
    assert decoded == []


# --- A reply image whose file is gone -------------------------------------------------------------


def test_a_reply_image_whose_file_is_missing_is_a_404(
    owner_client, conversation, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    reply = OutboxMessageFactory(conversation=conversation, type="IMAGE", text="")
    reply.attachment.save("replies/photo.png", ContentFile(small_png()))
    reply.attachment_content_type = "image/png"
    reply.save()
    url = reverse("reply_image", args=[conversation.public_id, reply.public_id])
    assert owner_client.get(url).status_code == 200

    (tmp_path / reply.attachment.name).unlink()

    assert owner_client.get(url).status_code == 404


# --- Image URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "//evil.example/x.png",
        "/relative/x.png",
    ],
)
def test_an_image_url_that_is_not_http_is_never_a_link_or_a_source(owner_client, conversation, url):
    MessageFactory(
        conversation=conversation,
        type="IMAGE",
        text="",
        content={"url": url, "width": "10", "height": "10"},
    )

    page = owner_client.get(reverse("ticket_detail", args=[conversation.public_id])).content
    page = page.decode()

    assert url.strip() not in page
    assert 'class="thread-image"' not in page
    assert "The buyer sent an image Sellerdesk cannot show" in page


def test_an_https_image_url_is_shown(owner_client, conversation):
    url = "https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/photo.jpg"
    MessageFactory(
        conversation=conversation,
        type="IMAGE",
        text="",
        content={"url": url, "width": "10", "height": "10"},
    )

    page = owner_client.get(reverse("ticket_detail", args=[conversation.public_id])).content

    assert f'href="{url}"'.encode() in page
    assert f'<img class="thread-image" src="{url}"'.encode() in page
