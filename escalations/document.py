"""A case written out: every field of its kind under its heading, for the case page, the
printable page, the e-mail and the API alike. Empty fields are listed too ("—"): the partner
sees that nothing was left out by mistake.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone

from orders.views import money
from tenants.models import Tenant

from . import selectors
from .kinds import FieldSpec, FieldType, Kind
from .models import Escalation, EscalationAttachment

EMPTY = "\N{EM DASH}"
ORDERS_CSV_NAME = "orders.csv"


@dataclass(frozen=True)
class DocFile:
    attachment: EscalationAttachment
    name: str  # unique within the case: the name it has in the e-mail


@dataclass
class Row:
    name: str
    label: str
    value: str  # as written out; EMPTY when not filled
    files: list[DocFile] = field(default_factory=list)
    multiline: bool = False  # the value has line breaks: shown below its label


@dataclass
class Section:
    title: str
    rows: list[Row]


@dataclass
class EscalationDocument:
    reference: str
    title: str  # "Orders: Tracking not syncing"
    sections: list[Section]
    files: list[DocFile]

    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]


def tenant_zone(tenant: Tenant) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(tenant.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _moment(value: str | datetime, zone: tzinfo) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = timezone.localtime(moment, zone)
    return f"{local:%-d %b %Y, %H:%M} {local.tzname()}"


def field_text(spec: FieldSpec, value: Any, zone: tzinfo) -> str:
    """One value as people read it: labels for choices, dates in the organisation's zone."""
    if value in (None, "", []):
        return EMPTY
    match spec.type:
        case FieldType.CHOICE | FieldType.YES_NO:
            return spec.choice_label(value)
        case FieldType.MULTI_CHOICE:
            return ", ".join(spec.choice_label(v) for v in value)
        case FieldType.DATETIME:
            return _moment(value, zone)
        case FieldType.ORDER_IDS:
            return "\n".join(value)
    return str(value)


def headline(kind: Kind, values: dict[str, Any], zone: tzinfo) -> str:
    """The case in one line, for lists: "Tracking not syncing · 576461413038785752"."""
    parts = [field_text(kind.field(name), values.get(name), zone) for name in kind.headline]
    return " \N{MIDDLE DOT} ".join(p for p in parts if p != EMPTY)[:255]


def escalation_document(
    escalation: Escalation, *, attachments: list[EscalationAttachment] | None = None
) -> EscalationDocument:
    kind = escalation.kind_spec
    zone = tenant_zone(escalation.tenant)
    if attachments is None:
        attachments = selectors.attachments_of(escalation=escalation)
    files = [
        DocFile(a, name) for a, name in zip(attachments, unique_names(attachments), strict=True)
    ]
    by_field: dict[str, list[DocFile]] = {}
    for doc_file in files:
        by_field.setdefault(doc_file.attachment.field, []).append(doc_file)
    store = escalation.store
    case_rows = [
        Row("reference", "Reference", escalation.reference),
        Row("kind", "Kind", kind.label),
        Row("status", "Status", escalation.get_status_display()),
        Row("opened_by", "Opened by", _opened_by(escalation)),
        Row("opened_at", "Opened", _moment(escalation.created_at, zone)),
    ]
    if escalation.conversation_id:
        case_rows.append(Row("ticket", "Sellerdesk ticket", f"#{escalation.conversation.number}"))
    store_rows = [
        Row("shop_name", "Shop", store.name),
        Row("shop_id", "TikTok shop id", store.external_shop_id),
        Row("shop_code", "Shop code", store.shop_code or EMPTY),
        Row("seller_name", "Seller", store.seller_name or EMPTY),
        Row("region", "Region", store.region or store.get_market_display()),
    ]
    sections = [Section("Case", case_rows), Section("Store", store_rows)]
    for section in kind.sections:
        rows = []
        for spec in section.fields:
            field_files = by_field.get(spec.name, [])
            if spec.type.is_file:
                value = ", ".join(f.name for f in field_files) if field_files else EMPTY
            else:
                value = field_text(spec, escalation.values.get(spec.name), zone)
            rows.append(
                Row(
                    spec.name,
                    spec.label,
                    value,
                    field_files,
                    multiline="\n" in value,
                )
            )
        sections.append(Section(section.title, rows))
    problem = escalation.values.get("problem")
    title = kind.label
    if problem:
        title = f"{kind.label}: {kind.field('problem').choice_label(problem)}"
    return EscalationDocument(escalation.reference, title, sections, files)


def unique_names(attachments: list[EscalationAttachment]) -> list[str]:
    """Two screenshots both called "image.png" become image.png and image-2.png."""
    seen: set[str] = {ORDERS_CSV_NAME}
    names = []
    for attachment in attachments:
        stem, dot, extension = attachment.name.rpartition(".")
        name, number = attachment.name, 1
        while name in seen:
            number += 1
            name = f"{stem}-{number}{dot}{extension}" if dot else f"{attachment.name}-{number}"
        seen.add(name)
        names.append(name)
    return names


def order_ids(escalation: Escalation) -> list[str]:
    values = escalation.values
    ids = [values["tiktok_order_id"]] if values.get("tiktok_order_id") else []
    return list(dict.fromkeys([*ids, *values.get("affected_orders", [])]))


ORDERS_CSV_HEADER = [
    "tiktok_order_id",
    "sellerdesk_order_id",
    "order_date",
    "status",
    "total",
    "shipping_provider",
    "tracking_number",
    "seller_skus",
    "product_ids",
    "products",
]


def orders_csv(escalation: Escalation) -> bytes | None:
    """orders.csv: a row per order id of the case with what Sellerdesk knows of it (an order
    that never synced has its id only). None when the kind has no orders or none is named."""
    if not escalation.kind_spec.attaches_order_data:
        return None
    ids = order_ids(escalation)
    if not ids:
        return None
    known = selectors.orders_by_external_id(
        tenant=escalation.tenant, store=escalation.store, external_ids=ids
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ORDERS_CSV_HEADER)
    for order_id in ids:
        order = known.get(order_id)
        if order is None:
            writer.writerow([order_id, "", "", "not in Sellerdesk", "", "", "", "", "", ""])
            continue
        lines = list(order.lines.all())
        writer.writerow(
            [
                order.external_id,
                str(order.public_id),
                order.placed_at.isoformat(),
                order.status,
                money(order.total_amount, order.currency),
                order.shipping_provider,
                order.tracking_number,
                " | ".join(dict.fromkeys(line.seller_sku for line in lines if line.seller_sku)),
                " | ".join(dict.fromkeys(line.product_id for line in lines if line.product_id)),
                " | ".join(dict.fromkeys(line.product_name for line in lines if line.product_name)),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _opened_by(escalation: Escalation) -> str:
    """The person (name and address), or the API key that opened the case."""
    author = escalation.created_by
    if author is not None:
        return f"{author.display_name} <{author.email}>"
    label = escalation.events.filter(kind="created").values_list("actor_label", flat=True).first()
    return label or EMPTY
