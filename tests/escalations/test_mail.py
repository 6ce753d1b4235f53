"""The case's e-mail as it goes on the wire: valid MIME with its screenshots byte for byte, built
without the stdlib's per-57-byte base64 nor its line-by-line body writer (bench/escalations.py:
6 MB of screenshots serialised took seconds)."""

from __future__ import annotations

import base64
import email
import os
from email import encoders, generator
from email.policy import default
from io import BytesIO
from unittest import mock

import pytest
from django.core.files.base import ContentFile

from escalations import selectors
from escalations.mail import base64_lines, escalation_email
from escalations.models import Escalation, EscalationAttachment
from tests.factories_inbox import ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_with_shots(store, tenant):
    case = Escalation.objects.create(
        tenant=tenant,
        store=store,
        kind="orders",
        values={"problem": "tracking_not_syncing", "details": "From the top\r\nof a line"},
        summary="Tracking not syncing",
        conversation=ConversationFactory(store=store),
    )
    contents = [os.urandom(size) for size in (200_000, 57 * 3, 1)]
    for n, content in enumerate(contents):
        attachment = EscalationAttachment(
            tenant=tenant,
            escalation=case,
            field="screenshot_here",
            name=f"shot{n}.png",
            content_type="image/png",
            size=len(content),
        )
        attachment.file.save(f"shot{n}.png", ContentFile(content), save=False)
        attachment.save()
    return case, contents


def test_base64_lines_are_the_stdlibs():
    for size in (0, 1, 56, 57, 58, 114, 1000, 100_003):
        content = os.urandom(size)
        assert base64_lines(content) == base64.encodebytes(content).decode().rstrip("\n")


def test_the_case_email_is_valid_mime_with_its_files_and_serialises_fast(case_with_shots):
    case, contents = case_with_shots
    attachments = selectors.attachments_of(escalation=case)
    with mock.patch.object(encoders, "encode_base64", side_effect=AssertionError("slow path")):
        message = escalation_email(case, to="partner@example.test", attachments=attachments)
        mime = message.message()
    with mock.patch.object(
        generator.BytesGenerator, "_write_lines", side_effect=AssertionError("line by line")
    ):
        wire = mime.as_bytes(linesep="\r\n")
    # The same bytes as the stdlib's own generator writes for the same message.
    stock = BytesIO()
    generator.BytesGenerator(stock, mangle_from_=False).flatten(mime, linesep="\r\n")
    assert wire == stock.getvalue()
    assert b"\n" not in wire.replace(b"\r\n", b"")
    assert max(len(line) for line in wire.split(b"\r\n")) <= 998

    parsed = email.message_from_bytes(wire, policy=default)
    assert f"[{case.reference}] Orders" in parsed["Subject"]
    assert parsed.get_content_type() == "multipart/mixed"
    files = [part for part in parsed.iter_attachments() if part.get_filename().startswith("shot")]
    assert [part.get_filename() for part in files] == ["shot0.png", "shot1.png", "shot2.png"]
    for part, content in zip(files, contents, strict=True):
        assert part["Content-Transfer-Encoding"] == "base64"
        assert part.get_content_type() == "image/png"
        assert part.get_content() == content
        body = part.as_bytes().split(b"\n\n", 1)[1]
        assert all(len(line) <= 76 for line in body.splitlines())
    boundaries = [p.get_boundary() for p in parsed.walk() if p.is_multipart()]
    assert len(boundaries) == 2 and len(set(boundaries)) == 2
    text = next(p for p in parsed.walk() if p.get_content_type() == "text/plain")
    assert "Tracking not syncing" in text.get_content()
