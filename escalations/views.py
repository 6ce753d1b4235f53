"""Escalation pages: the list, opening a case (from a ticket, an order, a store or nowhere), the
case with its history and actions, the printable page, files, and the organisation's setting.

Every view about one case starts with `selectors.escalation_get`, which answers 404 for a case of
another organisation or of a store the agent may not serve. A ticket, order or store named in the
URL is resolved through its own app's access helper, with the same 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox.display import exact_time, month_names, short_relative
from inbox.models import Conversation
from inbox.selectors import conversation_get
from marketplaces.models import Store
from marketplaces.selectors import store_get, stores_visible_to
from orders.models import Order
from orders.selectors import order_get
from tenants.decorators import tenant_required
from tenants.models import Role

from . import selectors, services
from .document import ORDERS_CSV_NAME, escalation_document, orders_csv, tenant_zone
from .forms import (
    EscalationForm,
    EscalationSettingsForm,
    ListFilterForm,
    NoteForm,
    StatusForm,
    initial_values,
    prefilled,
)
from .kinds import KIND_CHOICES, Kind, kind_get, kind_summaries
from .models import Escalation, EscalationAttachment, EscalationStatus

STATUS_LABELS = dict(EscalationStatus.choices)

LIST_PAGE_SIZE = 50


def _escalation(request: HttpRequest, public_id: uuid.UUID) -> Escalation:
    return selectors.escalation_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=request.membership,  # type: ignore[attr-defined]
        public_id=public_id,
    )


# --- The list -----------------------------------------------------------------------------------


@tenant_required
@require_GET
def escalation_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    stores = stores_visible_to(membership).only("public_id", "name", "market", "region")
    form = ListFilterForm(request.GET or None, stores=stores, kinds=KIND_CHOICES)
    ticket = None
    if request.GET.get("ticket"):
        ticket = conversation_get(
            tenant=request.tenant,  # type: ignore[attr-defined]
            membership=membership,
            public_id=request.GET["ticket"],
        )
    filters = selectors.ListFilters(
        status=form.value("status") or "",
        kind=form.value("kind") or "",
        store=form.value("store"),
        conversation=ticket,
    )
    cases = selectors.escalation_list(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=membership,
        filters=filters,
    )
    # A deferred join: the page's ids from the index (count and OFFSET), then its 50 rows.
    page = Paginator(selectors.escalation_page_ids(cases), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    shown = selectors.escalations_in_order(cases, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": list_rows(shown, zone=tenant_zone(request.tenant)),  # type: ignore[attr-defined]
        "query": query.urlencode(),
        "filtered": any((filters.status, filters.kind, filters.store, filters.conversation)),
        "ticket": ticket,
    }
    return render(request, "escalations/escalation_list.html", context)


@dataclass(frozen=True, slots=True)
class ListRow:
    """What one row of the list prints, every string ready (a template's `url` tag and `date`
    filters per row were most of the list's time: bench/README.md)."""

    dom_id: str
    href: str
    reference: str
    summary: str
    kind: str
    pill: str
    status: str
    store_name: str
    shop_id: str
    ticket_href: str
    ticket_number: int | None
    at_iso: str
    at_text: str  # the exact time: the tooltip
    at_short: str  # "4m", "2d", "12 Sep": what the row shows, as app.js writes it


def _url_around(name: str) -> tuple[str, str]:
    """A URL reversed once for a whole page: each row's is prefix + its id + suffix."""
    placeholder = str(uuid.UUID(int=0))
    prefix, _, suffix = reverse(name, args=[placeholder]).partition(placeholder)
    return prefix, suffix


def list_rows(cases: Iterable[Escalation], *, zone: tzinfo) -> list[ListRow]:
    case_prefix, case_suffix = _url_around("escalation_detail")
    ticket_prefix, ticket_suffix = _url_around("ticket_detail")
    months = month_names()
    now = timezone.now()
    rows = []
    for case in cases:
        at_iso, at_text = exact_time(case.created_at, zone, months)
        ticket = case.conversation
        rows.append(
            ListRow(
                dom_id=f"escalation-{case.public_id}",
                href=f"{case_prefix}{case.public_id}{case_suffix}",
                reference=case.reference,
                summary=case.summary,
                kind=case.kind_label,
                pill=case.pill,
                status=STATUS_LABELS.get(case.status, case.status),
                store_name=case.store.name,
                shop_id=case.store.external_shop_id,
                ticket_href=f"{ticket_prefix}{ticket.public_id}{ticket_suffix}" if ticket else "",
                ticket_number=ticket.number if ticket else None,
                at_iso=at_iso,
                at_text=at_text,
                at_short=short_relative(case.created_at, now, zone, months),
            )
        )
    return rows


# --- Opening a case ----------------------------------------------------------------------------


@dataclass
class Source:
    """Where a new case comes from: a ticket, an order, a store, or nowhere (the store is then
    chosen on the form)."""

    store: Store | None = None
    conversation: Conversation | None = None
    order: Order | None = None
    params: dict[str, str] | None = None

    @property
    def query(self) -> str:
        return urlencode(self.params or {})

    @property
    def label(self) -> str:
        if self.conversation is not None:
            return f"ticket #{self.conversation.number}"
        if self.order is not None:
            return f"order {self.order.external_id}"
        if self.store is not None:
            return self.store.name
        return ""


def _source(request: HttpRequest) -> Source:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    if request.GET.get("ticket"):
        conversation = conversation_get(
            tenant=tenant, membership=membership, public_id=request.GET["ticket"]
        )
        return Source(
            conversation.store, conversation, None, {"ticket": str(conversation.public_id)}
        )
    if request.GET.get("order"):
        order = order_get(tenant=tenant, membership=membership, public_id=request.GET["order"])
        return Source(order.store, None, order, {"order": str(order.public_id)})
    if request.GET.get("store"):
        store = store_get(tenant=tenant, membership=membership, public_id=request.GET["store"])
        return Source(store, None, None, {"store": str(store.public_id)})
    return Source(params={})


def _kept(request: HttpRequest, escalation: Escalation | None = None) -> list[EscalationAttachment]:
    """The files the form asks to keep: this person's staged ones, and the case's own."""
    wanted = request.POST.getlist("keep")
    membership = request.membership  # type: ignore[attr-defined]
    kept = selectors.staged_attachments(membership=membership, public_ids=wanted)
    if escalation is not None:
        wanted_set = set(wanted)
        kept += [
            a
            for a in selectors.attachments_of(escalation=escalation)
            if str(a.public_id) in wanted_set
        ]
    return kept


def _refused(request: HttpRequest, form: EscalationForm) -> None:
    """A refused form keeps the files that passed their checks (staged, shown ticked)."""
    if form.passed_files:
        form.kept += services.attachments_stage(
            membership=request.membership,  # type: ignore[attr-defined]
            files=form.passed_files,
        )


@tenant_required
@require_http_methods(["GET", "POST"])
def escalation_new(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    tenant = request.tenant  # type: ignore[attr-defined]
    source = _source(request)
    if source.store is not None and not selectors.is_escalatable(source.store):
        messages.error(request, selectors.not_escalatable_message(source.store))
        return redirect("escalation_new")
    kind = kind_get(request.GET.get("kind", ""))
    if kind is None:
        context = {"kinds": kind_summaries(), "source": source}
        return render(request, "escalations/escalation_kind.html", context)
    zone = tenant_zone(tenant)
    stores = selectors.escalation_stores(membership=membership) if source.store is None else None
    if request.method == "POST":
        form = EscalationForm(
            request.POST,
            request.FILES,
            kind=kind,
            membership=membership,
            stores=stores,
            store=source.store,
            kept=_kept(request),
            zone=zone,
        )
        if form.is_valid() and form.clean_case is not None:
            try:
                escalation = services.escalation_create(
                    membership=membership,
                    kind=kind,
                    store=form.cleaned_data["store"],
                    clean=form.clean_case,
                    kept=form.kept,
                    conversation=source.conversation,
                )
            except services.EscalationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"{escalation.reference} is saved as a draft. Check it, then Submit to "
                    "send it.",
                )
                return redirect("escalation_detail", escalation.public_id)
        _refused(request, form)
        return _form_page(request, form, kind, source, status=400)
    initial: dict[str, Any] = {}
    if source.store is not None:
        facts = selectors.known_facts(
            tenant=tenant,
            store=source.store,
            conversation=source.conversation,
            order=source.order,
        )
        initial = prefilled(kind, facts, zone)
    elif stores is not None and len(visible := list(stores[:2])) == 1:
        initial["store"] = visible[0].public_id
    form = EscalationForm(
        kind=kind,
        membership=membership,
        stores=stores,
        store=source.store,
        zone=zone,
        initial=initial,
    )
    return _form_page(request, form, kind, source)


def _form_page(
    request: HttpRequest,
    form: EscalationForm,
    kind: Kind,
    source: Source,
    *,
    escalation: Escalation | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "kind": kind,
        "kinds": KIND_CHOICES,
        "source": source,
        "escalation": escalation,
    }
    return render(request, "escalations/escalation_form.html", context, status=status)


@tenant_required
@require_http_methods(["GET", "POST"])
def escalation_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    escalation = _escalation(request, public_id)
    if not escalation.is_editable:
        messages.error(
            request,
            f"{escalation.reference} is {escalation.get_status_display().lower()}: only drafts "
            "can be edited.",
        )
        return redirect("escalation_detail", escalation.public_id)
    membership = request.membership  # type: ignore[attr-defined]
    kind = escalation.kind_spec
    zone = tenant_zone(escalation.tenant)
    source = Source(escalation.store, escalation.conversation, escalation.order, {})
    if request.method == "POST":
        form = EscalationForm(
            request.POST,
            request.FILES,
            kind=kind,
            membership=membership,
            stores=None,
            store=escalation.store,
            kept=_kept(request, escalation),
            zone=zone,
        )
        if form.is_valid() and form.clean_case is not None:
            try:
                services.escalation_update(
                    membership=membership,
                    escalation=escalation,
                    clean=form.clean_case,
                    kept=form.kept,
                )
            except services.EscalationError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"{escalation.reference} is saved.")
            return redirect("escalation_detail", escalation.public_id)
        _refused(request, form)
        return _form_page(request, form, kind, source, escalation=escalation, status=400)
    form = EscalationForm(
        kind=kind,
        membership=membership,
        stores=None,
        store=escalation.store,
        kept=selectors.attachments_of(escalation=escalation),
        zone=zone,
        initial=initial_values(kind, escalation.values, zone),
    )
    return _form_page(request, form, kind, source, escalation=escalation)


# --- One case -----------------------------------------------------------------------------------


@tenant_required
@require_GET
def escalation_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    escalation = _escalation(request, public_id)
    settings_row = selectors.escalation_settings_get(tenant=request.tenant)  # type: ignore[attr-defined]
    context = {
        "escalation": escalation,
        "document": escalation_document(escalation),
        "history": selectors.escalation_history(escalation=escalation),
        "status_form": StatusForm(),
        "note_form": NoteForm(),
        "recipient": settings_row.recipient_email if settings_row else "",
        "has_orders_csv": escalation.kind_spec.attaches_order_data
        and bool(
            escalation.values.get("tiktok_order_id") or escalation.values.get("affected_orders")
        ),
    }
    return render(request, "escalations/escalation_detail.html", context)


def escalation_url(escalation: Escalation) -> str:
    return reverse("escalation_detail", args=[escalation.public_id])


def _act(
    request: HttpRequest, escalation: Escalation, action: Callable[[], str], *, anchor: str = ""
) -> HttpResponse:
    """Runs one service call of a case's page and says how it went, back on the case."""
    try:
        done = action()
    except services.EscalationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(f"{escalation_url(escalation)}{anchor}")


@tenant_required
@require_POST
def escalation_submit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    escalation = _escalation(request, public_id)

    def submit() -> str:
        sent = services.escalation_submit(
            membership=request.membership,  # type: ignore[attr-defined]
            escalation=escalation,
        )
        return f"{sent.reference} was e-mailed to {sent.submitted_to}."

    return _act(request, escalation, submit)


@tenant_required
@require_POST
def escalation_status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    escalation = _escalation(request, public_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the new status.")
        return redirect(escalation_url(escalation))

    def change() -> str:
        changed = services.escalation_change_status(
            membership=request.membership,  # type: ignore[attr-defined]
            escalation=escalation,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
        return f"{changed.reference} is now {changed.get_status_display().lower()}."

    return _act(request, escalation, change)


@tenant_required
@require_POST
def escalation_note(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    escalation = _escalation(request, public_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a note first (at most 5,000 characters).")
        return redirect(f"{escalation_url(escalation)}#history")

    def note() -> str:
        services.escalation_note_add(
            membership=request.membership,  # type: ignore[attr-defined]
            escalation=escalation,
            body=form.cleaned_data["body"],
        )
        return "Note added."

    return _act(request, escalation, note, anchor="#history")


@tenant_required
@require_GET
def escalation_print(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    escalation = _escalation(request, public_id)
    context = {"escalation": escalation, "document": escalation_document(escalation)}
    return render(request, "escalations/escalation_print.html", context)


@tenant_required
@require_GET
def escalation_file(request: HttpRequest, public_id: uuid.UUID, file_id: uuid.UUID) -> HttpResponse:
    """A case's file, only for people who may see the case. Images open in the browser; PDFs
    and CSVs download, so that nothing uploaded runs as a page of ours."""
    escalation = _escalation(request, public_id)
    attachment = selectors.attachment_get(escalation=escalation, public_id=file_id)
    return FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not attachment.is_image,
        filename=attachment.name,
    )


@tenant_required
@require_GET
def escalation_orders_csv(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    escalation = _escalation(request, public_id)
    data = orders_csv(escalation)
    if data is None:
        raise Http404("This case names no orders.")
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ORDERS_CSV_NAME}"'
    return response


# --- The organisation's setting -----------------------------------------------------------------


@tenant_required
@require_http_methods(["GET", "POST"])
def escalation_settings(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    current = selectors.escalation_settings_get(tenant=request.tenant)  # type: ignore[attr-defined]
    form = EscalationSettingsForm(
        request.POST or None,
        initial={"recipient_email": current.recipient_email if current else ""},
    )
    if request.method == "POST":
        if not membership.has_role(Role.ADMIN):
            return render(
                request,
                "403.html",
                {"reason": "Only owners and admins can change this."},
                status=403,
            )
        if form.is_valid():
            services.escalation_settings_update(
                membership=membership, recipient_email=form.cleaned_data["recipient_email"]
            )
            messages.success(request, "Escalation settings saved.")
            return redirect("escalation_settings")
    status = 400 if form.errors else 200
    return render(request, "escalations/settings.html", {"form": form}, status=status)
