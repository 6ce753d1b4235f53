"""Order sync over the live sandbox: backfill, resume after a crash, 429 storms, incremental sync.

The sandbox holds 10 days of orders (30 a day for the first US shop), so the 90-day backfill
covers all of them: the expected ids are read independently by walking the sandbox's own search
without filters. Windows are shortened (5 days) and order pages made small (10) where a test
needs several windows or several pages per window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from marketplaces import adapter
from marketplaces.adapter import store_api
from marketplaces.models import Store, StoreStatus, SyncJob, SyncJobStatus, SyncKind, SyncMode
from marketplaces.tiktok import adapter as tiktok_adapter
from marketplaces.tiktok.client import TikTokClient
from orders import sync
from orders.models import Cancellation, CancellationLine, Order, OrderLine, Return, ReturnLine
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so the engine cannot tidy up after it."""


@pytest.fixture
def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync.pages, "BACKFILL_WINDOW", timedelta(days=5))


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync.pages, "ORDER_PAGE_SIZE", 10)


def sandbox_ids(pages: Iterator) -> list[str]:
    return [item.external_id for page in pages for item in page.items]


def expected(store: Store) -> dict[str, list[str]]:
    api = store_api(store)
    return {
        SyncKind.ORDERS: sandbox_ids(api.order_pages(page_size=100)),
        SyncKind.RETURNS: sandbox_ids(api.return_pages()),
        SyncKind.CANCELLATIONS: sandbox_ids(api.cancellation_pages()),
    }


def stored(store: Store) -> dict[str, list[str]]:
    def ids(model: type) -> list[str]:
        return sorted(model.objects.filter(store=store).values_list("external_id", flat=True))

    return {
        SyncKind.ORDERS: ids(Order),
        SyncKind.RETURNS: ids(Return),
        SyncKind.CANCELLATIONS: ids(Cancellation),
    }


def run_until_done(job: SyncJob, **kwargs: object) -> list[sync.RunResult]:
    """Runs a job like its task would (again after a pause, once its backoff is over), at most
    20 times."""
    results = []
    now = None
    for _ in range(20):
        result = sync.sync_job_run(job_id=job.pk, retries=len(results), now=now, **kwargs)
        results.append(result)
        if result.status != SyncJobStatus.PAUSED:
            return results
        now = SyncJob.objects.get(pk=job.pk).resume_at
    raise AssertionError(f"job {job.pk} did not finish: {results}")


def backfill(store: Store, **kwargs: object) -> list[SyncJob]:
    jobs = sync.backfill_jobs_create(store=store)
    for job in jobs:
        assert run_until_done(job, **kwargs)[-1].status == SyncJobStatus.COMPLETED
    return [SyncJob.objects.get(pk=job.pk) for job in jobs]


def line_keys(store: Store) -> list[tuple[int, str, str]]:
    return list(
        OrderLine.objects.filter(order__store=store)
        .order_by("pk")
        .values_list("pk", "order__external_id", "external_id")
    )


def test_backfill_stores_exactly_what_the_sandbox_has_and_a_rerun_changes_nothing(
    connect_sandbox_store, tenant, short_windows
):
    store = connect_sandbox_store(tenant=tenant)
    want = expected(store)
    assert (len(want[SyncKind.ORDERS]), len(want[SyncKind.RETURNS])) == (300, 16)
    assert len(want[SyncKind.CANCELLATIONS]) == 27

    jobs = backfill(store)

    assert stored(store) == {kind: sorted(ids) for kind, ids in want.items()}
    by_kind = {job.kind: job for job in jobs}
    for kind, ids in want.items():
        job = by_kind[kind]
        assert (job.status, job.mode, job.items_fetched, job.total_estimate) == (
            SyncJobStatus.COMPLETED,
            SyncMode.BACKFILL,
            len(ids),
            len(ids),
        )
        assert job.windows_done == 18  # 90 days in 5-day windows
        assert job.range_end - job.range_start == timedelta(days=90)
        assert job.progress_percent == 100
    lines_before = line_keys(store)
    return_lines = ReturnLine.objects.filter(return_request__store=store).count()
    cancel_lines = CancellationLine.objects.filter(cancellation__store=store).count()
    assert len(lines_before) == OrderLine.objects.filter(tenant=tenant).count()
    assert len(lines_before) > 300

    # A second full backfill (new jobs over the same period) leaves the very same rows.
    SyncJob.objects.filter(store=store).delete()
    backfill(store)

    assert stored(store) == {kind: sorted(ids) for kind, ids in want.items()}
    assert line_keys(store) == lines_before
    assert ReturnLine.objects.filter(return_request__store=store).count() == return_lines
    assert CancellationLine.objects.filter(cancellation__store=store).count() == cancel_lines
    store.refresh_from_db()
    assert store.last_synced_at is not None


def test_backfill_jobs_are_not_duplicated_and_a_failed_one_is_queued_again(
    connect_sandbox_store, tenant
):
    store = connect_sandbox_store(tenant=tenant)
    first = sync.backfill_jobs_create(store=store)
    again = sync.backfill_jobs_create(store=store)
    assert [job.pk for job in again] == [job.pk for job in first]
    assert [job.kind for job in first] == ["orders", "returns", "cancellations"]

    SyncJob.objects.filter(pk=first[0].pk).update(status=SyncJobStatus.FAILED)
    resumed = sync.backfill_jobs_create(store=store)
    assert resumed[0].pk == first[0].pk
    assert SyncJob.objects.get(pk=first[0].pk).status == SyncJobStatus.QUEUED
    assert SyncJob.objects.filter(store=store).count() == 3


def crash_after(pages: int, condition: Callable[[SyncJob], bool]) -> Callable[[SyncJob], None]:
    """A checkpoint hook that kills the worker at the first checkpoint past `pages` pages
    for which `condition` holds."""

    def hook(job: SyncJob) -> None:
        if job.pages_fetched >= pages and condition(job):
            raise WorkerKilled(f"killed at page {job.pages_fetched}")

    return hook


def resume_after_crash(store: Store, hook: Callable[[SyncJob], None]) -> tuple[SyncJob, int]:
    """Kills a backfill from `hook`, then resumes it; returns the crashed job and the orders
    stored at the moment of the crash."""
    jobs = sync.backfill_jobs_create(store=store)
    job = jobs[0]
    with pytest.raises(WorkerKilled):
        sync.sync_job_run(job_id=job.pk, on_checkpoint=hook)
    crashed = SyncJob.objects.get(pk=job.pk)
    assert crashed.status == SyncJobStatus.RUNNING
    stored_at_crash = Order.objects.filter(store=store).count()

    # The dead worker's job looks busy until its heartbeat is stale...
    assert sync.sync_job_run(job_id=job.pk).status == "not claimed"
    # ...then the next run reclaims it and carries on from the checkpoint.
    later = crashed.heartbeat_at + sync.STALE_AFTER + timedelta(seconds=1)
    # (the returns and cancellations jobs, still queued, are handed out too)
    assert sync.sync_jobs_to_resume(now=later) == [j.pk for j in jobs]
    result = sync.sync_job_run(job_id=job.pk, now=later)
    assert result.status == SyncJobStatus.COMPLETED
    assert result.items == 300 - crashed.items_fetched
    return crashed, stored_at_crash


def test_a_worker_killed_mid_window_resumes_with_no_gap_and_no_duplicate(
    connect_sandbox_store, tenant, short_windows, small_pages
):
    store = connect_sandbox_store(tenant=tenant)
    want = sorted(expected(store)[SyncKind.ORDERS])

    crashed, stored_at_crash = resume_after_crash(
        store, crash_after(4, lambda job: job.page_token != "")
    )

    assert crashed.page_token != ""  # inside a window: the next page was to come
    assert crashed.pages_fetched == 4
    assert crashed.items_fetched == 40
    assert stored_at_crash == 40  # exactly what was checkpointed
    job = SyncJob.objects.get(pk=crashed.pk)
    assert stored(store)[SyncKind.ORDERS] == want
    assert (job.items_fetched, job.total_estimate, job.attempts) == (300, 300, 2)


def test_a_worker_killed_at_a_window_boundary_resumes_with_the_next_window(
    connect_sandbox_store, tenant, short_windows, small_pages
):
    store = connect_sandbox_store(tenant=tenant)
    want = sorted(expected(store)[SyncKind.ORDERS])

    crashed, stored_at_crash = resume_after_crash(
        store, crash_after(1, lambda job: job.page_token == "")
    )

    assert crashed.windows_done == 1
    assert crashed.page_token == ""
    assert crashed.window_end == crashed.range_end - timedelta(days=5)
    assert stored_at_crash == crashed.items_fetched
    job = SyncJob.objects.get(pk=crashed.pk)
    assert stored(store)[SyncKind.ORDERS] == want
    assert (job.items_fetched, job.windows_done, job.attempts) == (300, 18, 2)


def test_a_running_job_is_claimed_by_one_worker_only(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    [job, *_] = sync.backfill_jobs_create(store=store)
    first = sync.sync_job_claim(job_id=job.pk)
    assert first is not None and first.attempts == 1
    assert sync.sync_job_claim(job_id=job.pk) is None
    stale = first.heartbeat_at + sync.STALE_AFTER + timedelta(seconds=1)
    second = sync.sync_job_claim(job_id=job.pk, now=stale)
    assert second is not None and second.attempts == 2

    # The first worker's checkpoint is refused: it lost the job to the second one.
    with pytest.raises(sync.ClaimLostError):
        sync._Checkpointer(first).write(page_token="x")
    assert SyncJob.objects.get(pk=job.pk).page_token == ""


def test_a_429_storm_slows_the_backfill_down_but_it_completes(
    tiktok_sandbox_factory, settings, tenant, short_windows
):
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    want = expected(store)
    sleeps: list[float] = []
    # The client's backoff sleeps are recorded instead of slept: same behaviour, no wall time.
    tiktok_adapter._local.client = TikTokClient.from_settings(sleep=sleeps.append)
    sandbox.set_faults(rate_limit_ratio=0.6)

    runs = []
    for job in sync.backfill_jobs_create(store=store):
        results = run_until_done(job)
        runs.extend(results)
        assert results[-1].status == SyncJobStatus.COMPLETED

    sandbox.reset_faults()
    assert stored(store) == {kind: sorted(ids) for kind, ids in want.items()}
    assert len(sleeps) > 20  # the storm happened and was backed off from
    paused = [r for r in runs if r.status == SyncJobStatus.PAUSED]
    # A run that still hit the limit after the client's retries asks for a later retry.
    assert all(r.retry_in is not None and r.retry_in >= sync.RETRY_BASE_SECONDS for r in paused)


def test_a_rate_limit_that_outlasts_the_retries_pauses_the_job_with_a_backoff(
    tiktok_sandbox_factory, settings, tenant
):
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    tiktok_adapter._local.client = TikTokClient.from_settings(sleep=lambda seconds: None)
    sandbox.set_faults(rate_limit_ratio=1.0)
    [job, *_] = sync.backfill_jobs_create(store=store)

    first = sync.sync_job_run(job_id=job.pk, retries=0)
    job.refresh_from_db()
    third = sync.sync_job_run(job_id=job.pk, retries=2, now=job.resume_at)

    assert (first.status, first.retry_in) == (SyncJobStatus.PAUSED, 30.0)
    assert (third.status, third.retry_in) == (SyncJobStatus.PAUSED, 120.0)
    job.refresh_from_db()
    assert job.status == SyncJobStatus.PAUSED
    assert job.last_error.startswith("RateLimitedError:")
    assert "36009002" in job.last_error
    assert Order.objects.filter(store=store).count() == 0


def test_a_rate_limited_incremental_sync_is_not_taken_again_before_its_backoff(
    tiktok_sandbox_factory, settings, tenant
):
    """Issue 9, defect 6: the beat's next incremental sync claimed the paused job at once."""
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    tiktok_adapter._local.client = TikTokClient.from_settings(sleep=lambda seconds: None)
    sandbox.set_faults(rate_limit_ratio=1.0)

    [first, *_] = sync.store_sync_incremental(store_id=store.pk)
    assert (first.status, first.retry_in) == (SyncJobStatus.PAUSED, 30.0)
    job = SyncJob.objects.get(store=store, kind=SyncKind.ORDERS, mode=SyncMode.INCREMENTAL)
    assert job.resume_at is not None
    assert timedelta(seconds=29) < job.resume_at - sync.timezone.now() <= timedelta(seconds=30)
    attempts = job.attempts

    # The beat comes round again (and the sweeper): nothing takes the job before its time.
    again = sync.store_sync_incremental(store_id=store.pk)
    assert again[0].status == "not claimed"
    assert job.pk not in sync.sync_jobs_to_resume()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (SyncJobStatus.PAUSED, attempts)
    # Once the backoff is over it is handed out and claimed.
    assert job.pk in sync.sync_jobs_to_resume(now=job.resume_at)
    sandbox.reset_faults()
    assert sync.sync_job_run(job_id=job.pk, now=job.resume_at).status == SyncJobStatus.COMPLETED


def test_a_refused_page_token_restarts_the_window_and_the_backfill_completes(
    connect_sandbox_store, tenant, short_windows, small_pages
):
    """Issue 9, defect 7: a page token the platform no longer accepts failed the job on every
    resume and every Sync now."""
    store = connect_sandbox_store(tenant=tenant)
    want = sorted(expected(store)[SyncKind.ORDERS])
    jobs = sync.backfill_jobs_create(store=store)
    job = jobs[0]
    with pytest.raises(WorkerKilled):
        sync.sync_job_run(
            job_id=job.pk, on_checkpoint=crash_after(3, lambda job: job.page_token != "")
        )
    crashed = SyncJob.objects.get(pk=job.pk)
    assert crashed.page_token
    # The kept page position has expired on the platform's side.
    SyncJob.objects.filter(pk=job.pk).update(page_token="expired" + crashed.page_token[7:])
    later = crashed.heartbeat_at + sync.STALE_AFTER + timedelta(seconds=1)

    restarted = sync.sync_job_run(job_id=job.pk, now=later)

    assert (restarted.status, restarted.retry_in) == (SyncJobStatus.PAUSED, 0.0)
    job.refresh_from_db()
    assert (job.page_token, job.window_start, job.window_end) == (
        "",
        crashed.window_start,
        crashed.window_end,
    )
    assert job.last_error.startswith("The page position expired; the window was restarted")
    assert run_until_done(job)[-1].status == SyncJobStatus.COMPLETED
    assert stored(store)[SyncKind.ORDERS] == want


def test_a_restarted_window_counts_its_items_once(
    connect_sandbox_store, tenant, short_windows, small_pages
):
    """Issue 9: the pages of a window read again after its page position expired were counted
    again, so "41,200 of 90,000" ran past the total."""
    store = connect_sandbox_store(tenant=tenant)
    want = sorted(expected(store)[SyncKind.ORDERS])
    job = sync.backfill_jobs_create(store=store)[0]
    with pytest.raises(WorkerKilled):
        sync.sync_job_run(
            job_id=job.pk, on_checkpoint=crash_after(3, lambda job: job.page_token != "")
        )
    crashed = SyncJob.objects.get(pk=job.pk)
    assert crashed.items_fetched >= crashed.window_items_fetched > 0  # a window is half read
    SyncJob.objects.filter(pk=job.pk).update(page_token="expired" + crashed.page_token[7:])
    later = crashed.heartbeat_at + sync.STALE_AFTER + timedelta(seconds=1)

    assert sync.sync_job_run(job_id=job.pk, now=later).status == SyncJobStatus.PAUSED
    restarted = SyncJob.objects.get(pk=job.pk)
    # The half-read window's items are taken off: they are counted when read again.
    assert restarted.items_fetched == crashed.items_fetched - crashed.window_items_fetched
    assert restarted.window_items_fetched == 0
    assert run_until_done(job)[-1].status == SyncJobStatus.COMPLETED

    job.refresh_from_db()
    assert stored(store)[SyncKind.ORDERS] == want
    assert job.items_fetched == len(want) == job.total_estimate == 300
    assert job.progress_percent == 100


def test_incremental_sync_picks_up_a_status_change(connect_sandbox_store, tenant, tiktok_settings):
    store = connect_sandbox_store(tenant=tenant)
    backfill(store)
    order = Order.objects.filter(store=store, status="AWAITING_SHIPMENT").first()
    assert order is not None
    note_author_note = "Buyer asked for gift wrap"
    Order.objects.filter(pk=order.pk).update(internal_note=note_author_note)

    advanced = tiktok_settings.advance_order(order.external_id)
    results = sync.store_sync_incremental(store_id=store.pk)

    assert [r.status for r in results] == [SyncJobStatus.COMPLETED] * 3
    order.refresh_from_db()
    assert advanced["status"] == "AWAITING_COLLECTION"
    assert order.status == "AWAITING_COLLECTION"
    assert int(order.updated_at.timestamp()) == advanced["update_time"]
    assert order.internal_note == note_author_note  # agents' notes survive a sync
    incremental = SyncJob.objects.get(store=store, kind=SyncKind.ORDERS, mode=SyncMode.INCREMENTAL)
    backfill_end = SyncJob.objects.get(
        store=store, kind=SyncKind.ORDERS, mode=SyncMode.BACKFILL
    ).range_end
    assert incremental.range_start == backfill_end - sync.INCREMENTAL_OVERLAP
    assert incremental.items_fetched == incremental.total_estimate
    assert incremental.items_fetched >= 1

    # The next incremental sync starts where this one ended (less the overlap).
    sync.store_sync_incremental(store_id=store.pk)
    latest = (
        SyncJob.objects.filter(store=store, kind=SyncKind.ORDERS, mode=SyncMode.INCREMENTAL)
        .order_by("-id")
        .first()
    )
    assert latest.range_start == incremental.range_end - sync.INCREMENTAL_OVERLAP
    assert Order.objects.filter(store=store).count() == 300


def test_a_store_that_needs_reauthorization_is_skipped(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    jobs = sync.backfill_jobs_create(store=store)
    job = jobs[0]
    Store.objects.filter(pk=store.pk).update(status=StoreStatus.NEEDS_REAUTH)

    assert sync.store_sync_incremental(store_id=store.pk) == []
    assert store.pk not in sync.stores_due_for_sync()
    result = sync.sync_job_run(job_id=job.pk)

    assert (result.status, result.retry_in) == (SyncJobStatus.PAUSED, None)
    job.refresh_from_db()
    # The adapter's own explanation, shown on the Stores page as the job's error.
    assert job.last_error == str(adapter.StoreUnavailableError(Store.objects.get(pk=store.pk)))
    assert job.last_error.startswith(store.name)
    assert not SyncJob.objects.filter(store=store, mode=SyncMode.INCREMENTAL).exists()
    assert Order.objects.filter(store=store).count() == 0
    # Paused jobs of a paused store are not handed back to workers until it is reconnected.
    assert sync.sync_jobs_to_resume(now=job.last_error_at + timedelta(hours=1)) == []
    Store.objects.filter(pk=store.pk).update(status=StoreStatus.ACTIVE)
    resumed = sync.sync_jobs_to_resume(now=job.last_error_at + timedelta(hours=1))
    assert resumed == [j.pk for j in jobs]


def test_another_tenants_orders_are_untouched(
    connect_sandbox_store, tenant, other_tenant, short_windows
):
    theirs = connect_sandbox_store(tenant=other_tenant, market="ROW")
    page = next(store_api(theirs).order_pages(page_size=20))
    from orders.ingest import orders_upsert

    orders_upsert(store=theirs, orders=page.items)
    Order.objects.filter(store=theirs).update(internal_note="theirs", status="ON_HOLD")
    before = list(
        Order.objects.filter(tenant=other_tenant)
        .order_by("pk")
        .values_list("pk", "external_id", "status", "synced_at", "internal_note")
    )
    ours = connect_sandbox_store(tenant=tenant)

    backfill(ours)
    sync.store_sync_incremental(store_id=ours.pk)

    after = list(
        Order.objects.filter(tenant=other_tenant)
        .order_by("pk")
        .values_list("pk", "external_id", "status", "synced_at", "internal_note")
    )
    assert after == before
    assert len(after) == 20
    assert Order.objects.filter(tenant=tenant).count() == 300
    assert not Order.objects.filter(store=ours).exclude(tenant=tenant).exists()
    assert not OrderLine.objects.filter(order__store=ours).exclude(tenant=tenant).exists()
    assert not SyncJob.objects.filter(tenant=other_tenant).exists()


def test_stores_due_for_sync_follow_the_interval(connect_sandbox_store, tenant, settings):
    settings.ORDER_SYNC_INTERVAL_SECONDS = 600
    store = connect_sandbox_store(tenant=tenant)
    assert sync.stores_due_for_sync() == [store.pk]
    sync.incremental_jobs_create(store=store)
    assert sync.stores_due_for_sync() == []
    assert sync.stores_due_for_sync(now=sync.timezone.now() + timedelta(seconds=601)) == [store.pk]


def test_backfill_start_and_sync_now_dispatch_after_commit(
    connect_sandbox_store, tenant, monkeypatch, django_capture_on_commit_callbacks
):
    from orders import tasks

    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks.run_sync_job, "delay", lambda i: sent.append(("job", i)))
    monkeypatch.setattr(tasks.sync_store, "delay", lambda i: sent.append(("store", i)))
    store = connect_sandbox_store(tenant=tenant)

    with django_capture_on_commit_callbacks(execute=True):
        jobs = sync.backfill_start(store=store)
    assert sent == [("job", job.pk) for job in jobs]

    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sync.sync_now(store=store)
    # Queued backfill jobs are sent again (a duplicate task finds them claimed and stops),
    # then the incremental sync.
    assert sent == [("job", job.pk) for job in jobs] + [("store", store.pk)]

    Store.objects.filter(pk=store.pk).update(status=StoreStatus.DISCONNECTED)
    store.refresh_from_db()
    with pytest.raises(adapter.StoreUnavailableError):
        sync.sync_now(store=store)


def test_the_run_task_retries_later_when_rate_limited(
    tiktok_sandbox_factory, settings, tenant, monkeypatch
):
    from orders import tasks

    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    tiktok_adapter._local.client = TikTokClient.from_settings(sleep=lambda seconds: None)
    sandbox.set_faults(rate_limit_ratio=1.0)
    [job, *_] = sync.backfill_jobs_create(store=store)
    countdowns: list[float] = []

    def fake_retry(*, countdown: float) -> Exception:
        countdowns.append(countdown)
        return RuntimeError("retry scheduled")

    monkeypatch.setattr(tasks.run_sync_job, "retry", fake_retry)
    with pytest.raises(RuntimeError, match="retry scheduled"):
        tasks.run_sync_job.run(job.pk)
    assert countdowns == [30.0]


def test_a_run_out_of_time_budget_hands_over_and_the_next_run_finishes(
    connect_sandbox_store, tenant, short_windows
):
    store = connect_sandbox_store(tenant=tenant)
    [job, *_] = sync.backfill_jobs_create(store=store)

    first = sync.sync_job_run(job_id=job.pk, budget_seconds=0)

    # One page is always stored before the budget is checked, then the job is handed over.
    assert (first.status, first.retry_in, first.items) == (SyncJobStatus.PAUSED, 0.0, 100)
    job.refresh_from_db()
    assert (job.status, job.pages_fetched, job.last_error) == (SyncJobStatus.PAUSED, 1, "")
    assert sync.sync_job_run(job_id=job.pk).status == SyncJobStatus.COMPLETED
    job.refresh_from_db()
    assert (job.items_fetched, job.attempts) == (300, 2)
    assert Order.objects.filter(store=store).count() == 300


def test_beat_tasks_hand_out_due_stores_and_left_behind_jobs(
    connect_sandbox_store, tenant, monkeypatch
):
    from orders import tasks

    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks.run_sync_job, "delay", lambda i: sent.append(("job", i)))
    monkeypatch.setattr(tasks.sync_store, "delay", lambda i: sent.append(("store", i)))
    store = connect_sandbox_store(tenant=tenant)
    paused = connect_sandbox_store(tenant=tenant, market="ROW")
    Store.objects.filter(pk=paused.pk).update(status=StoreStatus.NEEDS_REAUTH)
    jobs = sync.backfill_jobs_create(store=store)
    SyncJob.objects.filter(store=store).update(
        created_at=sync.timezone.now() - timedelta(minutes=2)
    )

    assert tasks.sync_due_stores.run() == 1
    assert tasks.resume_sync_jobs.run() == 3

    assert sent == [("store", store.pk)] + [("job", job.pk) for job in jobs]
