"""The e-mail a submitted case becomes: every field under its heading, as text and as HTML, with
the case's screenshots, PDFs and CSVs attached (and orders.csv when the kind has orders)."""

from __future__ import annotations

import base64
import uuid
from email import generator
from email.mime.base import MIMEBase
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string

from .document import ORDERS_CSV_NAME, escalation_document, orders_csv
from .models import Escalation, EscalationAttachment

# RFC 2045: base64 lines of at most 76 characters (57 bytes each).
BASE64_LINE = 76


def base64_lines(content: bytes) -> str:
    """What email.encoders.encode_base64 writes (base64.encodebytes without the final newline),
    in one b64encode and a slice per line instead of one b2a_base64 call per 57 bytes."""
    encoded = base64.b64encode(content).decode("ascii")
    return "\n".join(
        encoded[start : start + BASE64_LINE] for start in range(0, len(encoded), BASE64_LINE)
    )


class _BytesGenerator(generator.BytesGenerator):
    """The stdlib's, writing a body's line endings in one pass: its _write_lines splits the body
    on NLCRE and writes every line and every line ending apart (two writes and two encodes per
    76 characters: most of the time of serialising 6 MB of screenshots). Same bytes."""

    def _write_lines(self, lines: str) -> None:
        if not lines:
            return
        if "\r" in lines:
            self.write(generator.NLCRE.sub(self._NL, lines))
        else:  # the line endings Python writes: one replace, far cheaper than the regex
            self.write(lines.replace("\n", self._NL))


class _MIMEMultipart(SafeMIMEMultipart):
    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        out = BytesIO()
        _BytesGenerator(out, mangle_from_=False).flatten(self, unixfrom=unixfrom, linesep=linesep)
        return out.getvalue()


class EscalationEmail(EmailMultiAlternatives):
    """A case's e-mail, serialised fast with megabytes of attachments (bench/escalations.py):
    base64 in one call, the body written in one pass, and boundaries chosen up front (the
    generator otherwise searches the whole 8 MB text with a regex for each boundary it makes).
    A boundary is "=_" and 32 random hex digits: "_" is not in base64's alphabet and 128 random
    bits are not in the text parts."""

    def message(self) -> Any:
        msg = super().message()
        if isinstance(msg, SafeMIMEMultipart):
            msg.__class__ = _MIMEMultipart
            for part in msg.walk():
                if part.is_multipart():
                    part.set_boundary(f"=_{uuid.uuid4().hex}")
        return msg

    def _create_mime_attachment(self, content: Any, mimetype: str) -> Any:
        basetype, subtype = mimetype.split("/", 1)
        if basetype in ("text", "message") or not isinstance(content, bytes):
            return super()._create_mime_attachment(content, mimetype)
        attachment = MIMEBase(basetype, subtype)
        attachment.set_payload(base64_lines(content))
        attachment["Content-Transfer-Encoding"] = "base64"
        return attachment


def subject_of(escalation: Escalation, title: str) -> str:
    store = escalation.store
    subject = (
        f"[{escalation.reference}] {title} \N{EM DASH} {store.name} (shop {store.external_shop_id})"
    )
    return " ".join(subject.split())[:200]


def escalation_email(
    escalation: Escalation, *, to: str, attachments: list[EscalationAttachment]
) -> EscalationEmail:
    document = escalation_document(escalation, attachments=attachments)
    order_data = orders_csv(escalation)
    context = {
        "document": document,
        "escalation": escalation,
        "orders_csv": ORDERS_CSV_NAME if order_data is not None else "",
    }
    author = escalation.created_by
    message = EscalationEmail(
        subject=subject_of(escalation, document.title),
        body=render_to_string("escalations/email/escalation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        # The partner's answer goes to the person who opened the case.
        reply_to=[author.email] if author is not None else [],
        headers={"X-Sellerdesk-Escalation": escalation.reference},
    )
    message.attach_alternative(
        render_to_string("escalations/email/escalation.html", context), "text/html"
    )
    for doc_file in document.files:
        attachment = doc_file.attachment
        with attachment.file.open("rb") as handle:
            message.attach(doc_file.name, handle.read(), attachment.content_type)
    if order_data is not None:
        message.attach(ORDERS_CSV_NAME, order_data, "text/csv")
    return message
