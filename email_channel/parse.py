"""A raw e-mail as the mailbox stores it: who wrote, what it answers, its text with the quoted
history folded away, its HTML sanitised, its attachments checked, and whether a person wrote it
at all (auto-replies and bounces are recognised here). Pure: bytes in, a ParsedMail out.

Bad input never raises: malformed MIME, unknown charsets and broken headers are read as well as
the standard library and imap-tools can, and what cannot be read becomes a clear placeholder.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parseaddr

import nh3
from django.utils import timezone
from imap_tools import MailMessage

from . import keys

# A person's message, an automatic answer (out of office), or a delivery failure report.
KIND_TEXT = "TEXT"
KIND_AUTO_REPLY = "AUTO_REPLY"
KIND_BOUNCE = "DELIVERY_FAILURE"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"align", "dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign", "width"},
    "th": {"colspan", "rowspan", "valign", "width", "scope"},
    "table": {"width", "border", "cellpadding", "cellspacing"},
    "font": {"color"},
}
URL_SCHEMES = {"http", "https", "mailto", "cid"}

QUOTE_HEADER = re.compile(
    r"^(on\b.{0,300}\bwrote:|am\b.{0,300}\bschrieb\b.*:|le\b.{0,300}\ba écrit\s*:"
    r"|-{2,}\s*original message\s*-{2,}|_{5,}|from:\s.+)\s*$",
    re.IGNORECASE,
)
AUTO_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|auto:)",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"^(undeliver(ed|able)|delivery (status notification|failure|has failed)|"
    r"mail delivery failed|returned mail|failure notice)",
    re.IGNORECASE,
)
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
MESSAGE_ID_IN_REPORT = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
TOKEN_ADDRESS = re.compile(r"^(?P<local>[^+@]+)\+(?P<token>t[0-9a-f]{16})@(?P<domain>.+)$")

# A Date header this far ahead of the clock is a wrong clock: the mail is placed at receipt.
FUTURE_SLACK = timedelta(minutes=5)


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    payload: bytes = field(repr=False)


@dataclass
class ParsedMail:
    key: str
    message_id: str  # as written, without <>; empty when the mail had none
    in_reply_to: list[str]
    references: list[str]
    from_address: str
    from_name: str
    recipients: list[str]
    subject: str
    sent_at: datetime
    text: str  # what the sender wrote (the quoted history folded away)
    quoted: str
    html: str  # sanitised; empty for plain-text mail
    attachments: list[Attachment]
    kind: str
    problem: str = ""  # why the mail could not be read entirely (shown to the agent)

    @property
    def reply_tokens(self) -> list[str]:
        """Ticket tokens of support+<token>@… addresses among the recipients."""
        found = []
        for address in self.recipients:
            match = TOKEN_ADDRESS.match(address)
            if match and match["token"] not in found:
                found.append(match["token"])
        return found


def sanitize_html(value: str) -> str:
    """Safe to show: no script, style, event handler, form or frame; links open apart."""
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def _drop_remote_image(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not value.startswith("data:"):
        return None
    return value


def without_remote_images(sanitized: str) -> str:
    """The sanitised HTML with every image address removed (shown until the agent asks)."""
    return nh3.clean(
        sanitized,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_drop_remote_image,
        link_rel="noopener noreferrer nofollow",
    )


def has_remote_images(sanitized: str) -> bool:
    return bool(re.search(r"<img[^>]+src=\"(https?:)?//", sanitized, re.IGNORECASE))


def html_to_text(value: str) -> str:
    """Readable text of an HTML body (for the thread, the preview and search)."""
    value = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>|</li>", "\n", value)
    value = nh3.clean(value, tags=set(), clean_content_tags={"script", "style", "title", "head"})
    lines = [" ".join(html_lib.unescape(line).split()) for line in value.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def split_quoted(text: str) -> tuple[str, str]:
    """(what the sender wrote, the quoted history below it). The history starts at an
    "On … wrote:" line (or the like) or at a run of "> " lines that goes on to the end."""
    lines = text.replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines):
        stripped = line.strip()
        if number > 0 and QUOTE_HEADER.match(stripped):
            return "\n".join(lines[:number]).rstrip(), "\n".join(lines[number:]).strip()
        if stripped.startswith(">") and all(
            not rest.strip() or rest.lstrip().startswith(">") for rest in lines[number:]
        ):
            if number == 0:
                break  # nothing but quotes: show them
            return "\n".join(lines[:number]).rstrip(), "\n".join(lines[number:]).strip()
    return text.strip(), ""


def _header(message: MailMessage, name: str) -> str:
    values = message.headers.get(name.lower()) or ()
    return " ".join(str(value) for value in values)


def _kind(message: MailMessage, from_address: str, subject: str) -> str:
    content_type = message.obj.get_content_type() if message.obj else ""
    report_type = (message.obj.get_param("report-type") or "") if message.obj else ""
    if (
        content_type == "multipart/report" and str(report_type).lower() == "delivery-status"
    ) or from_address.startswith(BOUNCE_SENDERS):
        return KIND_BOUNCE
    if BOUNCE_SUBJECT.match(subject) and _header(message, "return-path").strip() in ("<>", ""):
        return KIND_BOUNCE
    auto = _header(message, "auto-submitted").strip().lower()
    if auto and auto != "no":
        return KIND_AUTO_REPLY
    if _header(message, "x-autoreply") or _header(message, "x-autorespond"):
        return KIND_AUTO_REPLY
    if _header(message, "precedence").strip().lower() in ("auto_reply", "bulk", "junk"):
        return KIND_AUTO_REPLY
    if AUTO_SUBJECT.match(subject):
        return KIND_AUTO_REPLY
    return KIND_TEXT


def _sent_at(message: MailMessage, received_at: datetime) -> datetime:
    moment = message.date
    if moment is None or moment.year < 1990:  # imap-tools' stand-in for a missing date
        return received_at
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return min(moment, received_at + FUTURE_SLACK) if moment > received_at else moment


def _report_message_ids(message: MailMessage) -> list[str]:
    """The Message-ID of the mail a delivery report is about (its returned headers)."""
    found: list[str] = []
    if message.obj is None:
        return found
    for part in message.obj.walk():
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822", "text/plain"):
            payload = part.get_payload(decode=True)
            if payload is None and part.is_multipart():
                payload = str(part.get_payload(0)).encode()
            text = (payload or b"").decode("utf-8", "replace")
            found += [value.strip("<>") for value in MESSAGE_ID_IN_REPORT.findall(text)]
    return found


def parse_mail(
    raw: bytes, *, received_at: datetime | None = None, parsed: MailMessage | None = None
) -> ParsedMail:
    """`parsed`: the same bytes as imap-tools already parsed them while fetching (not parsed
    again: parsing is the larger part of reading a mail, bench/README.md)."""
    received_at = received_at or timezone.now()
    try:
        return _parse(raw, received_at, parsed)
    except Exception as error:  # a mail the parser cannot read is kept as a placeholder
        return ParsedMail(
            key=keys.content_key(raw),
            message_id="",
            in_reply_to=[],
            references=[],
            from_address="",
            from_name="",
            recipients=[],
            subject="(unreadable e-mail)",
            sent_at=received_at,
            text="",
            quoted="",
            html="",
            attachments=[
                Attachment("message.eml", "message/rfc822", len(raw), raw),
            ],
            kind=KIND_TEXT,
            problem=f"This e-mail could not be read ({type(error).__name__}); "
            "the original is attached as message.eml.",
        )


def _parse(raw: bytes, received_at: datetime, parsed: MailMessage | None) -> ParsedMail:
    message = parsed if parsed is not None else MailMessage.from_bytes(raw)
    message_id = keys.message_ids_in(_header(message, "message-id"))
    own_id = message_id[0] if message_id else ""
    name, address = parseaddr(_header(message, "from"))
    address = address.strip().lower()
    subject = " ".join((message.subject or "").split())
    recipient_headers = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
    recipients = [
        found.strip().lower()
        for _, found in getaddresses([_header(message, header) for header in recipient_headers])
        if found
    ]
    kind = _kind(message, address, subject)
    html = sanitize_html(message.html) if message.html else ""
    text = message.text or (html_to_text(html) if html else "")
    visible, quoted = split_quoted(text)
    attachments = [
        Attachment(
            filename=(part.filename or "attachment").strip()[:200] or "attachment",
            content_type=(part.content_type or "application/octet-stream").lower()[:100],
            size=len(part.payload or b""),
            payload=part.payload or b"",
        )
        for part in message.attachments
        if kind != KIND_BOUNCE or not part.content_type.startswith(("message/", "text/rfc822"))
    ]
    references = keys.message_ids_in(_header(message, "references"))
    if kind == KIND_BOUNCE:
        references += [found for found in _report_message_ids(message) if found not in references]
    return ParsedMail(
        key=keys.message_key(own_id) if own_id else keys.content_key(raw),
        message_id=own_id,
        in_reply_to=keys.message_ids_in(_header(message, "in-reply-to")),
        references=references,
        from_address=address,
        from_name=" ".join(name.split())[:255],
        recipients=recipients,
        subject=subject[:500],
        sent_at=_sent_at(message, received_at),
        text=visible,
        quoted=quoted,
        html=html,
        attachments=attachments,
        kind=kind,
    )
