"""The Stores page: connect (the OAuth round trip), health, backfill progress, store actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tenants.decorators import tenant_required
from tenants.middleware import SESSION_KEY
from tenants.models import Role
from tenants.selectors import membership_get

from . import connection, selectors, services
from .channel import platforms_with_orders
from .forms import ConnectForm, StoreAccessForm
from .models import SyncJob, SyncJobStatus, SyncMode

# How often the progress bar asks for news while a backfill runs (HTMX `every`).
PROGRESS_POLL_SECONDS = 3


@dataclass(frozen=True)
class SyncProgress:
    """What one progress bar shows; `version` changes whenever any of it would."""

    state: str  # "none", or a SyncJobStatus value
    label: str
    counts: str
    percent: int | None
    polling: bool
    version: str

    @classmethod
    def of(cls, job: SyncJob | None) -> SyncProgress:
        if job is not None and job.mode == SyncMode.INCREMENTAL:
            return cls._of_check(job)
        if job is None:
            return cls("none", "Orders not imported yet", "", None, False, "none")
        fetched = f"{job.items_fetched:,}"
        total = job.total_estimate
        counts = f"{fetched} of {total:,}" if total else f"{fetched} so far"
        if job.status == SyncJobStatus.QUEUED and not job.items_fetched:
            counts = ""
        label = {
            SyncJobStatus.QUEUED: "Orders: waiting to start",
            SyncJobStatus.RUNNING: _window_label(job),
            SyncJobStatus.PAUSED: "Orders: paused until the store is active again",
            SyncJobStatus.COMPLETED: "Orders of the last 90 days imported",
            SyncJobStatus.FAILED: f"Orders: stopped — {job.last_error[:200] or 'unknown error'}",
        }.get(SyncJobStatus(job.status), job.status)
        version = "-".join(
            str(part)
            for part in (
                job.pk,
                job.status,
                job.items_fetched,
                job.total_estimate,
                job.windows_done,
                job.window_start and int(job.window_start.timestamp()),
            )
        )
        # A paused job waits for a person to reconnect: no point asking every few seconds.
        polling = job.status in (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING)
        return cls(job.status, label, counts, job.progress_percent, polling, version)

    @classmethod
    def _of_check(cls, job: SyncJob) -> SyncProgress:
        """A check for changes ("Sync now", or the regular one once the import is done): how
        far it got while it runs, what it found when it is done. No total is known ahead."""
        since = f"{timezone.localtime(job.range_start):%H:%M}"
        changed = f"{job.items_fetched:,} changed"
        status = SyncJobStatus(job.status)
        if status == SyncJobStatus.QUEUED:
            label, counts = "Checking for changed orders: waiting for a worker", ""
        elif status == SyncJobStatus.RUNNING:
            label, counts = f"Checking orders changed since {since}", f"{changed} so far"
        elif status == SyncJobStatus.COMPLETED:
            checked = timezone.localtime(job.finished_at or job.range_end)
            label = f"Orders up to date (checked at {checked:%H:%M %Z})"
            counts = changed
        elif status == SyncJobStatus.PAUSED:
            label, counts = "Check for changes paused until the store is active again", ""
        else:
            error = job.last_error[:200] or "unknown error"
            label, counts = f"Check for changed orders stopped — {error}", ""
        version = f"check-{job.pk}-{job.status}-{job.items_fetched}"
        polling = job.status in (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING)
        percent = 100 if status == SyncJobStatus.COMPLETED else None
        return cls(job.status, label, counts, percent, polling, version)


def shown_sync(backfill: SyncJob | None, check: SyncJob | None) -> SyncJob | None:
    """Which job a store's row shows: the 90-day import while it is unfinished, else the newest
    check for changes (what "Sync now" started) when it came after the import."""
    if check is None or (backfill is not None and backfill.is_active):
        return backfill
    if backfill is not None and check.created_at < backfill.created_at:
        return backfill
    return check


def _window_label(job: SyncJob) -> str:
    if job.window_start is None or job.window_end is None:
        return "Orders: starting"
    start, end = timezone.localtime(job.window_start), timezone.localtime(job.window_end)
    return f"Orders from {start:%-d %b} \u2013 {end:%-d %b}"  # an en dash


# --- Pages --------------------------------------------------------------------------------------


@tenant_required
def store_list(request: HttpRequest) -> HttpResponse:
    # Marketplace stores only: a support mailbox is set up on Settings → Channels.
    stores = [
        store
        for store in selectors.stores_visible_to(request.membership)
        if store.platform in platforms_with_orders()
    ]
    jobs = selectors.sync_progress(tenant=request.tenant, stores=stores)
    checks = selectors.latest_order_checks(tenant=request.tenant, stores=stores)
    rows = [
        (store, SyncProgress.of(shown_sync(jobs.get(store.pk), checks.get(store.pk))))
        for store in stores
    ]
    context = {"rows": rows, "form": ConnectForm(), "poll_seconds": PROGRESS_POLL_SECONDS}
    return render(request, "marketplaces/store_list.html", context)


@require_GET
@tenant_required
def store_progress(request: HttpRequest, store_id: str) -> HttpResponse:
    """The progress bar alone, for HTMX polling: 204 when nothing changed since `v`."""
    store = selectors.store_get(
        tenant=request.tenant, public_id=store_id, membership=request.membership
    )
    job = shown_sync(
        selectors.sync_progress(tenant=request.tenant, stores=[store]).get(store.pk),
        selectors.latest_order_checks(tenant=request.tenant, stores=[store]).get(store.pk),
    )
    progress = SyncProgress.of(job)
    if request.GET.get("v") == progress.version:
        return HttpResponse(status=204)
    context = {"store": store, "progress": progress, "poll_seconds": PROGRESS_POLL_SECONDS}
    return render(request, "marketplaces/_sync_progress.html", context)


# --- Connect (the OAuth round trip) -------------------------------------------------------------


@require_POST
@tenant_required(role=Role.ADMIN)
def store_connect(request: HttpRequest) -> HttpResponse:
    form = ConnectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose where the shop sells: the United States or elsewhere.")
        return redirect("store_list")
    return _to_consent_page(request, form.cleaned_data["market"])


def _to_consent_page(request: HttpRequest, market: str) -> HttpResponse:
    try:
        return redirect(
            connection.store_connect_begin(membership=request.membership, market=market)
        )
    except connection.ConnectError as exc:
        messages.error(request, str(exc))
        return redirect("store_list")


@require_GET
@login_required
def store_connect_callback(request: HttpRequest) -> HttpResponse:
    """Where TikTok Shop sends the browser back (the redirect URL registered for the app)."""
    try:
        result = connection.store_connect_complete(
            user=request.user,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except connection.ConnectError as exc:
        messages.error(request, str(exc))
        return redirect("store_list")
    # Show the organisation the stores joined, even if the person switched meanwhile.
    request.session[SESSION_KEY] = str(result.tenant.public_id)
    _announce(request, result)
    return redirect("store_list")


def _names(items: Sequence[object]) -> str:
    """ "A", "A and B", "A, B and C"."""
    names = [str(item) for item in items]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _announce(request: HttpRequest, result: connection.ConnectResult) -> None:
    if result.connected:
        messages.success(
            request,
            f"Connected {_names(result.connected)}. The last 90 days of orders are importing now.",
        )
    if result.reconnected:
        messages.success(request, f"Reconnected {_names(result.reconnected)}; sync has resumed.")
    if result.refused:
        one = len(result.refused) == 1
        subject, pronoun = ("It is", "it") if one else ("They are", "them")
        messages.error(
            request,
            f"Not connected: {_names(result.refused)}. {subject} connected to another Sellerdesk "
            "organisation right now, and a shop can be connected to one organisation at a time. "
            f"Once that organisation disconnects {pronoun}, connect {pronoun} here again.",
        )


# --- Store actions ------------------------------------------------------------------------------


@require_POST
@tenant_required(role=Role.ADMIN)
def store_reconnect(request: HttpRequest, store_id: str) -> HttpResponse:
    store = selectors.store_get(tenant=request.tenant, public_id=store_id)
    return _to_consent_page(request, store.market)


@require_POST
@tenant_required(role=Role.ADMIN)
def store_disconnect(request: HttpRequest, store_id: str) -> HttpResponse:
    store = selectors.store_get(tenant=request.tenant, public_id=store_id)
    connection.store_disconnect(actor=request.membership, store=store)
    messages.success(
        request,
        f"{store.name} is disconnected: sync stopped and its tokens were deleted. Its orders and "
        "conversations stay. Reconnect it any time.",
    )
    return redirect("store_list")


@require_POST
@tenant_required(role=Role.ADMIN)
def store_sync_now(request: HttpRequest, store_id: str) -> HttpResponse:
    store = selectors.store_get(tenant=request.tenant, public_id=store_id)
    try:
        connection.store_sync_now(actor=request.membership, store=store)
    except connection.ConnectError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Sync of {store.name} started.")
    return redirect("store_list")


# --- Per-agent store limits ---------------------------------------------------------------------


@tenant_required(role=Role.ADMIN)
def store_access_edit(request: HttpRequest, member_id: str) -> HttpResponse:
    member = membership_get(tenant=request.tenant, public_id=member_id)
    if member.has_role(Role.ADMIN):
        messages.info(request, f"{member.user.display_name} serves every store ({member.role}).")
        return redirect("member_list")
    limited = selectors.is_store_limited(member)
    initial = [str(s.public_id) for s in selectors.stores_visible_to(member)] if limited else []
    stores = selectors.stores_of_tenant(tenant=request.tenant)
    # Not `request.POST or None`: unticking every box posts nothing and must still save.
    data = request.POST if request.method == "POST" else None
    scope = StoreAccessForm.SOME if limited else StoreAccessForm.ALL
    form = StoreAccessForm(data, stores=stores, initial={"stores": initial, "scope": scope})
    if request.method == "POST" and form.is_valid():
        services.store_access_set(
            actor=request.membership,
            membership=member,
            stores=form.chosen_stores(),
            all_stores=form.all_stores,
        )
        messages.success(request, f"Store access of {member.user.display_name} saved.")
        return redirect("member_list")
    return render(request, "marketplaces/store_access.html", {"member": member, "form": form})
