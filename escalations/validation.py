"""The one check of an escalation's values, for the form and the API alike.

`validate` takes the raw values (strings from a form, JSON values from the API) and the uploaded
files of one kind, and returns them typed and clean, or raises `EscalationInvalid` with every
problem found, each under the name of the field it is about, its message naming that field. The
files that passed their checks travel with the error, so a refused form keeps them.

Files are judged by their content, never by their name or declared type: images are opened with
Pillow (`inbox.validation.check_image`, the composer's check), a PDF must start with `%PDF-` and
end with `%%EOF`, a CSV must be UTF-8 text that parses as CSV.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import PurePath
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils import timezone

from inbox.validation import check_image
from marketplaces.channel import ImageLimits
from marketplaces.models import Store
from orders.models import Order
from orders.selectors import orders_of_tenant
from tenants.models import Membership, Tenant

from .kinds import NO, YES, FieldSpec, FieldType, Kind

# One file at most 10 MB, a case's files together at most 18 MB: e-mail servers commonly refuse
# messages over 25 MB, and base64 makes attachments a third bigger on the way.
FILE_MAX_BYTES = 10 * 1024 * 1024
CASE_FILES_MAX_BYTES = 18 * 1024 * 1024
FILES_PER_FIELD = 5
CSV_MAX_BYTES = 2 * 1024 * 1024
CSV_MAX_ROWS = 10_000
ORDER_IDS_MAX = 500
ORDER_ID = re.compile(r"^[0-9]{6,32}$")
# Screenshots travel by e-mail, not through a channel: the images any mail client shows.
SCREENSHOT_IMAGES = ImageLimits(
    max_bytes=FILE_MAX_BYTES,
    formats={"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"},
    extensions={"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"},
)
COUNT_MAX = 1_000_000_000
# Dates before TikTok Shop existed are typing mistakes (0226 for 2026), not old appeals.
EARLIEST = datetime(2015, 1, 1, tzinfo=UTC)

FileInput = UploadedFile | IO[bytes]


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class CaseContext:
    """Who is asking, about which store, and when: what the checks compare against."""

    tenant: Tenant
    store: Store
    membership: Membership | None
    zone: tzinfo
    now: datetime


@dataclass
class CleanCase:
    values: dict[str, Any]  # JSON-able: str, int, list[str], datetimes as ISO 8601 strings
    files: dict[str, list[CheckedFile]]
    order: Order | None  # the order `our_order_id` names


class EscalationInvalid(Exception):
    """`errors` maps field names (or "__all__") to messages; `files` holds the uploads that
    passed their own checks, to be kept for the next attempt."""

    def __init__(
        self, errors: dict[str, list[str]], files: dict[str, list[CheckedFile]] | None = None
    ) -> None:
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors
        self.files = files or {}


def format_moment(moment: datetime, zone: tzinfo) -> str:
    local = timezone.localtime(moment, zone)
    return f"{local:%-d %b %Y, %H:%M} ({local.tzname()})"


# --- Values -----------------------------------------------------------------------------------


class _Refused(Exception):
    pass


def _is_empty(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, (list, tuple)):
        return all(_is_empty(item) for item in raw)
    return False


def _text(spec: FieldSpec, raw: object, *, multiline: bool) -> str:
    if not isinstance(raw, str):
        raise _Refused(f"{spec.label} must be text.")
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        raise _Refused(f"{spec.label} contains a character that cannot be sent.")
    if not multiline:
        text = " ".join(text.split())
    if len(text) > spec.max_length:
        raise _Refused(
            f"{spec.label} is limited to {spec.max_length:,} characters; this has {len(text):,}."
        )
    return text


def _moment(spec: FieldSpec, raw: object, context: CaseContext) -> str:
    if not isinstance(raw, str):
        raise _Refused(f"{spec.label} must be a date and time like 2026-09-12 14:30.")
    try:
        moment = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise _Refused(f"{spec.label}: enter a date and time like 2026-09-12 14:30.") from exc
    if timezone.is_naive(moment):
        # A form's datetime-local (and an API value without an offset) is the tenant's time.
        moment = timezone.make_aware(moment, context.zone)
    if moment > context.now:
        raise _Refused(
            f"{spec.label} cannot be in the future: "
            f"{format_moment(moment, context.zone)} is later than now."
        )
    if moment < EARLIEST:
        raise _Refused(f"{spec.label}: {moment.year:04d} is before TikTok Shop existed.")
    return moment.astimezone(UTC).isoformat()


def _order_ids(spec: FieldSpec, raw: object) -> list[str]:
    if isinstance(raw, str):
        parts = re.split(r"[\s,;]+", raw.strip())
    elif isinstance(raw, (list, tuple)) and all(isinstance(p, str) for p in raw):
        parts = [p.strip() for p in raw]
    else:
        raise _Refused(f"{spec.label} must be order ids, one a line.")
    ids = list(dict.fromkeys(p for p in parts if p))
    wrong = [p for p in ids if not ORDER_ID.match(p)]
    if wrong:
        raise _Refused(f"{spec.label}: {', '.join(wrong[:3])} is not a TikTok order id (digits).")
    if len(ids) > ORDER_IDS_MAX:
        raise _Refused(f"{spec.label}: at most {ORDER_IDS_MAX} orders; attach a CSV for more.")
    return ids


def parse_value(spec: FieldSpec, raw: object, context: CaseContext) -> Any:
    """The typed value of one filled-in field, or _Refused with a message naming it."""
    match spec.type:
        case FieldType.TEXT:
            return _text(spec, raw, multiline=False)
        case FieldType.LONG_TEXT:
            return _text(spec, raw, multiline=True)
        case FieldType.CHOICE:
            if raw not in dict(spec.choices):
                options = ", ".join(label for _, label in spec.choices)
                raise _Refused(f"{spec.label}: choose one of {options}.")
            return raw
        case FieldType.MULTI_CHOICE:
            chosen = [raw] if isinstance(raw, str) else raw
            allowed = dict(spec.choices)
            if not isinstance(chosen, (list, tuple)) or any(c not in allowed for c in chosen):
                options = ", ".join(label for _, label in spec.choices)
                raise _Refused(f"{spec.label}: choose among {options}.")
            return [value for value in allowed if value in chosen]
        case FieldType.YES_NO:
            if isinstance(raw, bool):
                return YES if raw else NO
            if raw not in (YES, NO):
                raise _Refused(f"{spec.label}: answer yes or no.")
            return raw
        case FieldType.DATETIME:
            return _moment(spec, raw, context)
        case FieldType.EMAIL:
            text = _text(spec, raw, multiline=False)
            try:
                validate_email(text)
            except ValidationError as exc:
                raise _Refused(f"{spec.label}: {text} is not an e-mail address.") from exc
            return text.lower()
        case FieldType.COUNT:
            if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                raise _Refused(f"{spec.label} must be a whole number.")
            text = str(raw).strip()
            if not text.isdigit() or int(text) > COUNT_MAX:
                raise _Refused(f"{spec.label} must be a whole number, zero or more.")
            return int(text)
        case FieldType.ORDER_ID:
            text = _text(spec, raw, multiline=False)
            if not ORDER_ID.match(text):
                raise _Refused(f"{spec.label}: {text[:40]} is not a TikTok order id (digits).")
            return text
        case FieldType.ORDER_IDS:
            return _order_ids(spec, raw)
        case FieldType.OUR_ORDER:
            text = _text(spec, raw, multiline=False)
            try:
                return str(uuid.UUID(text))
            except ValueError as exc:
                raise _Refused(
                    f"{spec.label}: {text[:40]} is not an order of your organisation."
                ) from exc
    raise _Refused(f"{spec.label} cannot be filled in here.")


# --- Files ------------------------------------------------------------------------------------


def _read(upload: FileInput, limit: int) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return bytes(data)


def safe_name(raw: str, extension: str) -> str:
    """The file's own name, without a path or odd characters, with the extension its content
    proved: "../../etc/passwd.png" -> "passwd.png"."""
    stem = PurePath(raw.replace("\\", "/")).name.rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "-", stem).strip(" .-")[:80] or "attachment"
    return f"{stem}.{extension}"


def _is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def check_file(spec: FieldSpec, upload: FileInput) -> CheckedFile:
    name = str(getattr(upload, "name", "") or "attachment")
    limit = CSV_MAX_BYTES if spec.type == FieldType.CSV else FILE_MAX_BYTES
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise _Refused(_too_big(spec, declared, limit))
    data = _read(upload, limit)
    if len(data) > limit:
        raise _Refused(_too_big(spec, len(data), limit))
    if not data:
        raise _Refused(f"{spec.label}: {PurePath(name).name} is empty.")
    if spec.type == FieldType.CSV:
        return _check_csv(spec, name, data)
    if _is_pdf(data):
        return CheckedFile(safe_name(name, "pdf"), "application/pdf", data)
    image, _ = check_image(data, SCREENSHOT_IMAGES)
    if image is None:
        raise _Refused(
            f"{spec.label}: {PurePath(name).name[:80]} is not an image (JPEG, PNG, GIF, WEBP) "
            "or a PDF."
        )
    return CheckedFile(safe_name(name, image.extension), image.content_type, data)


def _check_csv(spec: FieldSpec, name: str, data: bytes) -> CheckedFile:
    refused = f"{spec.label}: {PurePath(name).name[:80]} is not a CSV file (UTF-8 text)."
    if b"\x00" in data:
        raise _Refused(refused)
    try:
        text = data.decode("utf-8-sig")
        rows = sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _Refused(refused) from exc
    if rows > CSV_MAX_ROWS:
        raise _Refused(f"{spec.label}: at most {CSV_MAX_ROWS:,} rows; this has {rows:,}.")
    return CheckedFile(safe_name(name, "csv"), "text/csv", data)


def _too_big(spec: FieldSpec, size: int, limit: int) -> str:
    return (
        f"{spec.label}: files are limited to {limit // (1024 * 1024)} MB; "
        f"this one is {size / (1024 * 1024):.1f} MB."
    )


# --- The whole case ---------------------------------------------------------------------------


def _is_required(spec: FieldSpec, values: Mapping[str, Any]) -> bool:
    if spec.required:
        return True
    if spec.required_when:
        other, wanted = spec.required_when
        return values.get(other) in wanted
    if spec.required_unless:
        return _is_empty(values.get(spec.required_unless))
    return False


def _required_message(spec: FieldSpec, kind: Kind) -> str:
    condition = kind.requirement(spec)
    return f"{spec.label} is {condition}." if condition else f"{spec.label} is required."


def validate(
    *,
    kind: Kind,
    values: Mapping[str, Any],
    files: Mapping[str, Sequence[FileInput]] | None = None,
    kept: Mapping[str, Sequence[int]] | None = None,
    context: CaseContext,
) -> CleanCase:
    """`kept`: per file field, the sizes of files already attached (an edited case) or kept
    from a refused attempt; they count for required screenshots and the size limit."""
    files = files or {}
    kept = kept or {}
    errors: dict[str, list[str]] = {}
    known = set(kind.field_names())
    for name in [*values, *files]:
        if name not in known:
            errors.setdefault(name, []).append(f"{name} is not a field of {kind.label} cases.")

    clean: dict[str, Any] = {}
    for spec in kind.fields():
        if spec.type.is_file:
            continue
        raw = values.get(spec.name)
        if _is_empty(raw):
            continue
        try:
            clean[spec.name] = parse_value(spec, raw, context)
        except _Refused as exc:
            errors.setdefault(spec.name, []).append(str(exc))
    for spec in kind.fields():
        if spec.default_from in clean and spec.name not in clean and spec.name not in errors:
            clean[spec.name] = clean[spec.default_from]

    checked: dict[str, list[CheckedFile]] = {}
    for spec in kind.fields():
        if not spec.type.is_file:
            continue
        uploads = [u for u in files.get(spec.name, ()) if u is not None]
        allowed = 1 if spec.type == FieldType.CSV else FILES_PER_FIELD
        if len(uploads) + len(kept.get(spec.name, ())) > allowed:
            errors.setdefault(spec.name, []).append(
                f"{spec.label}: at most {allowed} file{'s' if allowed > 1 else ''}."
            )
            continue
        for upload in uploads:
            try:
                checked.setdefault(spec.name, []).append(check_file(spec, upload))
            except _Refused as exc:
                errors.setdefault(spec.name, []).append(str(exc))

    # Required: judged on the values as the person meant them, even where one was refused
    # above (a refused value is reported once, not also as missing).
    for spec in kind.fields():
        if spec.name in errors or not _is_required(spec, {**values, **clean}):
            continue
        present = (
            bool(checked.get(spec.name) or kept.get(spec.name))
            if spec.type.is_file
            else spec.name in clean
        )
        if not present:
            errors.setdefault(spec.name, []).append(_required_message(spec, kind))

    total = sum(f.size for fs in checked.values() for f in fs) + sum(
        size for sizes in kept.values() for size in sizes
    )
    if total > CASE_FILES_MAX_BYTES:
        errors.setdefault("__all__", []).append(
            f"A case's files are limited to {CASE_FILES_MAX_BYTES // (1024 * 1024)} MB together "
            f"(they travel in one e-mail); these are {total / (1024 * 1024):.1f} MB."
        )

    _check_wait_rule(kind, clean, errors, context)
    order = _check_orders(kind, clean, errors, context)
    if errors:
        raise EscalationInvalid(errors, checked)
    return CleanCase(values=clean, files=checked, order=order)


def _check_wait_rule(
    kind: Kind, clean: dict[str, Any], errors: dict[str, list[str]], context: CaseContext
) -> None:
    rule = kind.wait_rule
    if rule is None or "appealed" in errors:
        return
    wait = timedelta(hours=rule.hours)
    appealed = clean.get("appealed")
    if appealed == NO and rule.unappealed_anchor is None:
        errors.setdefault("appealed", []).append(
            f"Appeal in Seller Center first: a {kind.label.lower()} is escalated only once its "
            f"appeal was denied, or is still pending {rule.hours} hours after it was made."
        )
        return
    if appealed == YES:
        if clean.get("appeal_status") != "pending" or "appeal_date" not in clean:
            return  # denied: escalate at once (a missing date is reported as missing)
        anchor_field, anchor = "appeal_date", clean["appeal_date"]
        why = f"a pending appeal is given {rule.hours} hours"
    elif appealed == NO and rule.unappealed_anchor in clean:
        anchor_field, anchor = rule.unappealed_anchor, clean[rule.unappealed_anchor]
        why = f"TikTok is given {rule.hours} hours"
    else:
        return
    possible = datetime.fromisoformat(anchor) + wait
    if context.now < possible:
        label = kind.field(anchor_field).label
        errors.setdefault(anchor_field, []).append(
            f"Too early to escalate ({label}: {why}): "
            f"you can escalate this from {format_moment(possible, context.zone)}."
        )


def _check_orders(
    kind: Kind, clean: dict[str, Any], errors: dict[str, list[str]], context: CaseContext
) -> Order | None:
    """The case's order. Our order id must be an order of this organisation that the person
    may see, in the case's store, and the TikTok order id (if given) must be that order's;
    without ours, the TikTok id names the order when Sellerdesk has it in the case's store.
    TikTok order ids we do not know are accepted (an order that does not sync is not here); ids
    of orders in another of the organisation's stores are refused. Other organisations' orders
    are never looked at, so nothing here tells whether they exist."""
    visible = orders_of_tenant(tenant=context.tenant, membership=context.membership)
    order: Order | None = None
    if "our_order_id" in clean:
        order = visible.filter(public_id=clean["our_order_id"]).first()
        spec = kind.field("our_order_id")
        if order is None:
            errors.setdefault("our_order_id", []).append(
                f"{spec.label}: no such order in your organisation's stores."
            )
        elif order.store_id != context.store.pk:
            errors.setdefault("our_order_id", []).append(
                f"{spec.label}: that order is of {order.store.name}, not {context.store.name}."
            )
            order = None
        elif clean.get("tiktok_order_id") not in (None, order.external_id):
            errors.setdefault("tiktok_order_id", []).append(
                f"TikTok order id: Sellerdesk's order is {order.external_id}, "
                f"not {clean['tiktok_order_id']}."
            )
    if order is None and "our_order_id" not in clean and "tiktok_order_id" in clean:
        # Without our id, the TikTok id names the case's order when Sellerdesk has it.
        order = visible.filter(store=context.store, external_id=clean["tiktok_order_id"]).first()
    named = [clean[name] for name in ("tiktok_order_id",) if name in clean]
    named += clean.get("affected_orders", [])
    if named:
        found = list(
            visible.filter(external_id__in=named).values_list(
                "external_id", "store_id", "store__name"
            )
        )
        here = {order_id for order_id, store_id, _ in found if store_id == context.store.pk}
        elsewhere = {order_id: name for order_id, _, name in found if order_id not in here}
        for name in ("tiktok_order_id", "affected_orders"):
            ids = clean.get(name)
            ids = [ids] if isinstance(ids, str) else ids or []
            foreign = [i for i in ids if i in elsewhere]
            if foreign:
                label = kind.field(name).label
                errors.setdefault(name, []).append(
                    f"{label}: order {foreign[0]} is of {elsewhere[foreign[0]]}, "
                    f"not {context.store.name}."
                )
    return order
