"""Reply validation (inbox.validation and reply_create): refused replies leave no trace.

Given a ticket, when an agent submits a reply that breaks a composer rule, then the typed error
names the field and the problem, and nothing is stored, queued, written to disk or sent.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inbox import services
from inbox.models import Conversation, Message, TicketEvent, TicketStatus
from inbox.validation import ReplyInvalidError, validate_reply
from marketplaces.tiktok.adapter import CAPABILITIES as TIKTOK
from tenants.models import Membership
from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import StoreFactory

# The first bytes of a Windows executable (PE/MZ header), saved as a ".jpg".
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 4096


def png_bytes(size: tuple[int, int] = (40, 30), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


def big_png(megabytes: float) -> bytes:
    """A real PNG of random pixels, stored uncompressed: `megabytes` MiB and a bit more."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    picture = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def owner_membership(owner, tenant) -> Membership:
    return Membership.objects.get(user=owner, tenant=tenant)


@pytest.fixture
def ticket(tenant) -> Conversation:
    return ConversationFactory(
        store=StoreFactory(tenant=tenant, name="Sunrise US"),
        unread_count=2,
        last_message_preview="Where is my parcel?",
        last_message_from_buyer=True,
    )


@pytest.fixture
def scheduled(monkeypatch) -> list[tuple[str, tuple]]:
    """Tasks dispatched after commit (recorded, not run)."""
    from inbox import tasks

    calls: list[tuple[str, tuple]] = []
    for name in ("send_reply", "mark_conversation_read"):
        monkeypatch.setattr(
            getattr(tasks, name), "delay", lambda *args, _name=name: calls.append((_name, args))
        )
    return calls


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def refused(
    membership, ticket, media, scheduled, django_capture_on_commit_callbacks, **reply
) -> dict[str, list[str]]:
    before = Conversation.objects.filter(pk=ticket.pk).values().get()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ReplyInvalidError) as caught,
    ):
        services.reply_create(membership=membership, conversation=ticket, **reply)
    assert Message.objects.count() == 0
    assert TicketEvent.objects.count() == 0
    assert scheduled == []
    assert files_under(media) == []
    assert Conversation.objects.filter(pk=ticket.pk).values().get() == before
    return caught.value.errors


def test_2001_characters_are_refused(
    owner_membership, ticket, media, scheduled, django_capture_on_commit_callbacks
):
    errors = refused(
        owner_membership,
        ticket,
        media,
        scheduled,
        django_capture_on_commit_callbacks,
        text="a" * 2001,
        next_status=TicketStatus.SOLVED,
    )
    assert errors == {"text": ["A reply is limited to 2,000 characters; this one has 2,001."]}


def test_2000_characters_are_accepted_and_crlf_counts_as_one():
    assert validate_reply(text="a" * 2000, capabilities=TIKTOK).text == "a" * 2000
    # 1,000 lines from a browser textarea: 2,998 characters as submitted, 1,999 for the buyer
    # (and the composer's counter), since CRLF is one line break.
    submitted = "\r\n".join(["a"] * 1000)
    assert len(submitted) == 2998
    checked = validate_reply(text=submitted, capabilities=TIKTOK)
    assert len(checked.text) == 1999
    assert "\r" not in checked.text


def test_a_16_mb_image_is_refused(
    owner_membership, ticket, media, scheduled, django_capture_on_commit_callbacks
):
    data = big_png(16)
    assert len(data) > 16 * 1024 * 1024
    upload = SimpleUploadedFile("big.png", data, content_type="image/png")
    errors = refused(
        owner_membership,
        ticket,
        media,
        scheduled,
        django_capture_on_commit_callbacks,
        text="Here is the photo",
        image=upload,
    )
    assert errors == {
        "image": [f"Images are limited to 15 MB; this one is {len(data) / 1048576:.1f} MB."]
    }


def test_a_renamed_executable_is_refused_whatever_its_name_and_declared_type(
    owner_membership, ticket, media, scheduled, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("holiday-photo.jpg", EXECUTABLE, content_type="image/jpeg")
    errors = refused(
        owner_membership,
        ticket,
        media,
        scheduled,
        django_capture_on_commit_callbacks,
        text="See attached",
        image=upload,
    )
    assert errors == {
        "image": ["Only JPEG, PNG, GIF and WEBP images can be sent; this file is not one of them."]
    }


def test_an_image_of_another_format_is_refused():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="BMP")
    with pytest.raises(ReplyInvalidError) as caught:
        validate_reply(
            text="", image=SimpleUploadedFile("x.png", buffer.getvalue()), capabilities=TIKTOK
        )
    assert caught.value.errors == {
        "image": ["Only JPEG, PNG, GIF and WEBP images can be sent; this file is not one of them."]
    }


def test_a_truncated_png_is_refused():
    data = png_bytes((300, 300))
    with pytest.raises(ReplyInvalidError) as caught:
        validate_reply(text="", image=data[: len(data) // 2], capabilities=TIKTOK)
    assert list(caught.value.errors) == ["image"]


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_an_empty_reply_is_refused(
    text, owner_membership, ticket, media, scheduled, django_capture_on_commit_callbacks
):
    errors = refused(
        owner_membership, ticket, media, scheduled, django_capture_on_commit_callbacks, text=text
    )
    assert errors == {"text": ["Write a reply or attach an image."]}


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("PNG", "image/png", "png"),
        ("JPEG", "image/jpeg", "jpg"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
    ],
)
def test_each_supported_format_is_recognised_by_content(fmt, content_type, extension):
    # Named ".txt" with a wrong declared type: the content decides.
    upload = SimpleUploadedFile("notes.txt", png_bytes((64, 48), fmt), content_type="text/plain")
    checked = validate_reply(text="  ", image=upload, capabilities=TIKTOK)
    assert checked.text == ""
    assert checked.image is not None
    assert (checked.image.content_type, checked.image.extension) == (content_type, extension)
    assert (checked.image.width, checked.image.height) == (64, 48)


def test_an_unknown_next_status_is_refused(
    owner_membership, ticket, media, scheduled, django_capture_on_commit_callbacks
):
    errors = refused(
        owner_membership,
        ticket,
        media,
        scheduled,
        django_capture_on_commit_callbacks,
        text="Hello",
        next_status="closed",
    )
    assert errors == {"next_status": ["Choose Send, Send & Pending or Send & Solve."]}
