"""Reading a support mailbox: new mail of each folder, threaded onto tickets, stored once.

One poll of one channel runs under a lease (a conditional UPDATE, so two workers never read one
mailbox at once). Per folder it asks the server for UIDs above the last one stored (a UID means
something only with the folder's UIDVALIDITY: when that changes, the folder is read again from
the start), fetches them in batches without marking them read, and stores each batch in ONE
transaction with the folder's new position: a crash between fetch and store leaves the position
where it was, and the next poll fetches the same mail again. Whatever is fetched twice (a re-poll,
the same mail in two folders) has one key (its Message-ID) and is stored once by the inbox's
ingest.

Threading, first match wins: a reply address with the ticket's token (support+t…@), then
In-Reply-To / References against stored Message-IDs, then "[#123]" in the subject, then the
sender's open ticket in this mailbox; otherwise a new ticket.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from imap_tools import A, BaseMailBox, MailMessage

from inbox.ingest import Delivery, messages_ingest_many
from inbox.models import Conversation, Message, TicketStatus
from marketplaces import records
from marketplaces.channel import ChannelError

from . import keys
from .connection import folder_select, imap_session
from .models import EmailChannel, EmailThread, FolderState
from .parse import KIND_TEXT, ParsedMail, parse_mail

logger = logging.getLogger(__name__)

POLL_LEASE = timedelta(minutes=10)
# Mail fetched and stored per transaction, and read per poll (the next poll goes on).
BATCH_SIZE = 500
MAX_PER_POLL = 5_000
SUBJECT_NUMBER = re.compile(r"\[#(\d{1,9})\]")
SUBJECT_PREFIX = re.compile(r"^((re|fw|fwd|aw|wg|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
BLOCKED_EXTENSIONS = frozenset(
    {"exe", "com", "bat", "cmd", "scr", "pif", "msi", "js", "jse", "vbs", "vbe", "ps1", "jar",
     "hta", "cpl", "dll", "lnk", "reg", "wsf", "html", "htm", "svg"}
)  # fmt: skip


def attachment_max_bytes() -> int:
    return int(getattr(settings, "EMAIL_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))


@dataclass
class PollResult:
    outcome: str = "ok"  # ok, busy, inactive, failed
    fetched: int = 0
    stored: int = 0
    skipped: int = 0  # our own mail coming back (a loop)
    more: bool = False  # the poll stopped at MAX_PER_POLL; another one goes on
    error: str = ""
    new_tickets: list[int] = field(default_factory=list)


# --- Lease --------------------------------------------------------------------------------------


def _claim(channel_id: int) -> bool:
    now = timezone.now()
    return bool(
        EmailChannel.objects.filter(pk=channel_id, is_active=True)
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .update(poll_lease_until=now + POLL_LEASE)
    )


def _release(channel_id: int, *, error: str = "") -> None:
    now = timezone.now()
    changes: dict[str, Any] = {"poll_lease_until": None, "last_polled_at": now}
    if error:
        changes.update(last_poll_error=error[:1000], last_poll_error_at=now)
    else:
        changes.update(last_poll_error="")
    EmailChannel.objects.filter(pk=channel_id).update(**changes)


def channels_to_poll() -> list[int]:
    return list(
        EmailChannel.objects.filter(is_active=True, store__status="active")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- The poll -----------------------------------------------------------------------------------


def channel_poll(*, channel_id: int) -> PollResult:
    """Reads every folder of the channel once (the task body)."""
    if not _claim(channel_id):
        exists = EmailChannel.objects.filter(pk=channel_id, is_active=True).exists()
        return PollResult(outcome="busy" if exists else "inactive")
    result = PollResult()
    try:
        channel = EmailChannel.objects.select_related("store").get(pk=channel_id)
        with imap_session(channel) as mailbox:
            for folder in channel.folders:
                if result.fetched >= MAX_PER_POLL:
                    result.more = True
                    break
                _poll_folder(channel, mailbox, folder, result)
    except ChannelError as error:
        result.outcome, result.error = "failed", error.detail
    except Exception as error:  # the server dropped mid-fetch, or broke the protocol
        logger.warning("e-mail poll of channel %s failed: %s", channel_id, error)
        result.outcome = "failed"
        result.error = f"IMAP: the server broke off while reading mail ({error}). Retried soon."
    _release(channel_id, error=result.error)
    return result


def _folder_state(channel: EmailChannel, folder: str) -> FolderState:
    state, _ = FolderState.objects.get_or_create(
        channel=channel, folder=folder, defaults={"tenant_id": channel.tenant_id}
    )
    return state


class RawMailMessage(MailMessage):
    """A fetched mail that keeps its bytes as the server sent them (re-serialising the parsed
    message fails on the broken ones, and its key must not depend on our parser)."""

    def __init__(self, fetch_data: list[Any]) -> None:
        super().__init__(fetch_data)
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]


def _poll_folder(
    channel: EmailChannel, mailbox: BaseMailBox, folder: str, result: PollResult
) -> None:
    mailbox.email_message_class = RawMailMessage
    folder_select(mailbox, folder)
    status = mailbox.folder.status(folder, ["UIDVALIDITY"])
    validity = int(status["UIDVALIDITY"])
    state = _folder_state(channel, folder)
    if state.uid_validity != validity:
        # New UIDs for every mail: read the folder again; Message-IDs keep what is stored once.
        state.uid_validity, state.last_uid = validity, 0
        state.save(update_fields=["uid_validity", "last_uid", "updated_at"])
    uids = [int(uid) for uid in mailbox.uids(A(uid=f"{state.last_uid + 1}:*"))]
    # "n:*" always names the newest mail, even below n: only the ones above count.
    uids = sorted(uid for uid in uids if uid > state.last_uid)
    room = MAX_PER_POLL - result.fetched
    if len(uids) > room:
        uids, result.more = uids[:room], True
    for start in range(0, len(uids), BATCH_SIZE):
        batch = uids[start : start + BATCH_SIZE]
        fetched = list(
            mailbox.fetch(
                A(uid=",".join(map(str, batch))), mark_seen=False, bulk=True, headers_only=False
            )
        )
        result.fetched += len(fetched)
        # In UID order (arrival order), whatever order the server answered in: new tickets are
        # numbered in it.
        mails = sorted(
            (
                (int(message.uid or 0), parse_mail(message.raw, parsed=message))
                for message in fetched
            ),
            key=lambda pair: pair[0],
        )
        _store_batch(channel, state, mails, last_uid=max(batch), result=result)


# --- Threading ----------------------------------------------------------------------------------


def clean_subject(subject: str) -> str:
    subject = SUBJECT_NUMBER.sub("", subject)
    return " ".join(SUBJECT_PREFIX.sub("", subject.strip()).split())[:500]


def _is_loop(channel: EmailChannel, mail: ParsedMail) -> bool:
    """Our own mail coming back (a reply bounced to us, an auto-reply of ours forwarded)."""
    local, _, domain = channel.address.partition("@")
    address = mail.from_address
    return address == channel.address or (
        address.startswith(f"{local}+") and address.endswith(f"@{domain}")
    )


def _thread(channel: EmailChannel, mails: Sequence[ParsedMail]) -> tuple[dict[str, str], set[str]]:
    """The ticket token of each mail (by key) and the tokens that are new tickets."""
    store_id = channel.store_id
    tokens = {token for mail in mails for token in mail.reply_tokens}
    referenced = {
        keys.message_key(ref): ref
        for mail in mails
        for ref in [*mail.in_reply_to, *mail.references]
    }
    numbers = {int(n) for mail in mails for n in SUBJECT_NUMBER.findall(mail.subject)}
    buyers = {keys.buyer_key(mail.from_address) for mail in mails if mail.from_address}
    own = {mail.key for mail in mails}

    known_tokens = set(
        Conversation.objects.filter(store_id=store_id, external_id__in=tokens).values_list(
            "external_id", flat=True
        )
    )
    by_key = dict(
        Message.objects.filter(store_id=store_id, external_id__in=[*referenced, *own]).values_list(
            "external_id", "conversation__external_id"
        )
    )
    by_number = dict(
        Conversation.objects.filter(store_id=store_id, number__in=numbers).values_list(
            "number", "external_id"
        )
    )
    by_buyer: dict[str, str] = {}
    for buyer, token in (
        Conversation.objects.filter(store_id=store_id, customer__buyer_user_id__in=buyers)
        .exclude(status=TicketStatus.SOLVED)
        .order_by("last_message_at", "pk")
        .values_list("customer__buyer_user_id", "external_id")
    ):
        by_buyer[buyer] = token  # the most recent open ticket wins

    decided: dict[str, str] = {}
    new: set[str] = set()
    for mail in mails:
        token = by_key.get(mail.key)  # stored already: its own ticket, nothing new
        token = token or next((t for t in mail.reply_tokens if t in known_tokens), None)
        if token is None:
            for ref in reversed([*mail.references, *mail.in_reply_to]):
                token = by_key.get(keys.message_key(ref))
                if token:
                    break
        if token is None:
            for number in SUBJECT_NUMBER.findall(mail.subject):
                token = by_number.get(int(number))
                if token:
                    break
        buyer = keys.buyer_key(mail.from_address) if mail.from_address else ""
        if token is None and buyer and mail.kind == KIND_TEXT:
            token = by_buyer.get(buyer)
        if token is None:
            token = keys.new_token()
            new.add(token)
        decided[mail.key] = token
        # Later mail of this batch threads onto what this one started.
        by_key.setdefault(mail.key, token)
        if buyer and mail.kind == KIND_TEXT:
            by_buyer.setdefault(buyer, token)
    return decided, new


# --- Storing ------------------------------------------------------------------------------------


def _attachment_path(store_id: int, mail_key: str, number: int, filename: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "attachment"
    return f"email/{store_id}/{mail_key.replace(':', '-')}/{number}-{safe[-100:]}"


def _attachments(channel: EmailChannel, mail: ParsedMail) -> list[dict[str, Any]]:
    """Stores the mail's attachments that pass the checks; all of them are listed."""
    listed = []
    limit = attachment_max_bytes()
    for number, attachment in enumerate(mail.attachments, start=1):
        entry: dict[str, Any] = {
            "name": attachment.filename,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "path": "",
            "refused": "",
        }
        extension = attachment.filename.rpartition(".")[2].lower()
        if attachment.size > limit:
            megabytes = limit // (1024 * 1024)
            entry["refused"] = (
                f"Not kept: larger than {megabytes} MB. Ask the buyer for a smaller file."
            )
        elif extension in BLOCKED_EXTENSIONS and "." in attachment.filename:
            entry["refused"] = f"Not kept: .{extension} files can carry programs."
        else:
            path = _attachment_path(channel.store_id, mail.key, number, attachment.filename)
            if not default_storage.exists(path):  # a re-read mail finds its files in place
                path = default_storage.save(path, ContentFile(attachment.payload))
            entry["path"] = path
        listed.append(entry)
    return listed


def _message_record(
    channel: EmailChannel, mail: ParsedMail, token: str, folder: str, uid: int
) -> records.Message:
    kind = mail.kind
    role = records.SenderRole.BUYER
    text = mail.text
    if mail.problem:
        text = f"{mail.problem}\n\n{text}".strip()
    content = {
        "email": {
            "subject": mail.subject,
            "from": mail.from_address,
            "from_name": mail.from_name,
            "message_id": mail.message_id,
            "quoted": mail.quoted[:100_000],
            "html": mail.html[:500_000],
            "attachments": _attachments(channel, mail),
            "kind": kind,
            "folder": folder,
            "uid": uid,
        }
    }
    return records.Message(
        external_id=mail.key,
        conversation_id=token,
        index=keys.time_index(mail.sent_at),
        type=kind,
        created_at=mail.sent_at,
        is_visible=True,
        sender=records.MessageSender(im_user_id=None, role=role, nickname="", avatar_url=None),
        content=content,
        content_raw="",
        text=text or ("(no text)" if not mail.attachments else ""),
        image=None,
        product_id=None,
        order_id=None,
        sku_id=None,
        coupon_id=None,
        package_id=None,
        video_id=None,
        raw={},
    )


def _conversation_record(mail: ParsedMail, token: str) -> records.Conversation:
    buyer = records.Participant(
        im_user_id=None,
        user_id=keys.buyer_key(mail.from_address) if mail.from_address else None,
        role=records.SenderRole.BUYER,
        nickname="",
        avatar_url=None,
        buyer_platform="email",
    )
    return records.Conversation(
        external_id=token,
        participant_count=2,
        can_send_message=bool(mail.from_address),
        unread_count=0,
        created_at=mail.sent_at,
        participants=[buyer] if mail.from_address else [],
        latest_message=None,
        raw={},
    )


def _store_batch(
    channel: EmailChannel,
    state: FolderState,
    mails: Iterable[tuple[int, ParsedMail]],
    *,
    last_uid: int,
    result: PollResult,
) -> None:
    """One transaction: the batch's mail stored (once each), threads kept, the folder's
    position moved. A failure anywhere leaves all of it to the next poll."""
    kept: list[tuple[int, ParsedMail]] = []
    for uid, mail in mails:
        if _is_loop(channel, mail):
            result.skipped += 1
        else:
            kept.append((uid, mail))
    store = channel.store
    with transaction.atomic():
        decided, new = _thread(channel, [mail for _, mail in kept])
        deliveries = []
        first_of: dict[str, ParsedMail] = {}
        for uid, mail in kept:
            token = decided[mail.key]
            first_of.setdefault(token, mail)
            deliveries.append(
                Delivery(
                    conversation_id=token,
                    messages=[_message_record(channel, mail, token, state.folder, uid)],
                    complete_after=None,
                    record=_conversation_record(mail, token) if token in new else None,
                )
            )
        results = messages_ingest_many(store=store, deliveries=deliveries) if deliveries else {}
        result.stored += sum(len(r.new_messages) for r in results.values())
        _threads_keep(channel, results, new, first_of, kept, decided)
        FolderState.objects.filter(pk=state.pk).update(
            last_uid=max(last_uid, state.last_uid), updated_at=timezone.now()
        )
        state.last_uid = max(last_uid, state.last_uid)
        result.new_tickets += [results[token].conversation.pk for token in new if token in results]


def _threads_keep(
    channel: EmailChannel,
    results: dict[str, Any],
    new: set[str],
    first_of: dict[str, ParsedMail],
    kept: Sequence[tuple[int, ParsedMail]],
    decided: dict[str, str],
) -> None:
    """New tickets get their e-mail thread; every thread learns the Message-IDs it received,
    so the next reply answers the newest of them."""
    threads = {
        thread.conversation.external_id: thread
        for thread in EmailThread.objects.select_for_update()
        .select_related("conversation")
        .filter(conversation__in=[r.conversation.pk for r in results.values()])
    }
    created = []
    for token, ingest in results.items():
        if token in threads:
            continue
        mail = first_of[token]
        created.append(
            EmailThread(
                tenant_id=channel.tenant_id,
                channel=channel,
                conversation=ingest.conversation,
                buyer_address=mail.from_address,
                buyer_name=mail.from_name,
                subject=clean_subject(mail.subject),
                references=[],
            )
        )
    EmailThread.objects.bulk_create(created)
    for thread in created:
        threads[thread.conversation.external_id] = thread
    stored_keys = {
        message.external_id for ingest in results.values() for message in ingest.new_messages
    }
    changed = []
    for _, mail in kept:
        thread = threads.get(decided[mail.key])
        if thread is None or mail.key not in stored_keys or not mail.message_id:
            continue
        if mail.message_id not in thread.references:
            thread.references = [*thread.references, mail.message_id][-20:]
            changed.append(thread)
    if changed:
        EmailThread.objects.bulk_update(list({t.pk: t for t in changed}.values()), ["references"])
