"""Reads of the reports: figures summed from the daily rollups (one query), and the current
backlog (the mailbox's capped folder counts). Every function takes the tenant explicitly.

Each figure is a `Table` — columns and rows of plain values — that the page draws as a chart,
the CSV export writes and the API answers, so the three never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import add
from typing import Any

from inbox.selectors import FOLDER_COUNT_CAP, folder_counts
from marketplaces.models import Store
from tenants.models import Membership, Tenant
from triage.labels import Intent

from ..models import (
    FIRST_RESPONSE_BUCKETS,
    HANDLE_EDGES_MINUTES,
    DailyRollup,
    RollupState,
    market_target_percent,
)

MAX_DAYS = 731  # two years
DEFAULT_DAYS = 30
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FRT_LABELS = ("0-2 h", "2-12 h", "12-24 h", "> 24 h")
REPORTS = {
    "response-rate": "Daily response rate per store",
    "first-response": "First response time",
    "attainment": "SLA attainment per agent per week",
    "volume": "Buyer messages by weekday and hour",
    "backlog": "Current backlog",
    "handle-time": "Median handle time",
    "intents": "Buyer messages by intent",
}


class ReportFilterError(ValueError):
    """Filters that cannot be used; `errors` maps each filter to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


@dataclass(frozen=True)
class ReportFilters:
    date_from: date
    date_to: date
    stores: tuple[Store, ...]  # the stores asked for (all the viewer's by default)
    agent_id: int | None = None  # a user's pk; None: everybody
    store: Store | None = None  # the one store chosen, if any


def filters_checked(
    *, date_from: date | None, date_to: date | None, today: date
) -> tuple[date, date]:
    """The date range, or ReportFilterError: reversed, or longer than two years."""
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise ReportFilterError({"from": ["The start date is after the end date."]})
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise ReportFilterError({"from": ["Choose a range of at most two years."]})
    return date_from, date_to


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # what a chart needs beside the rows

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _percent(met: int, missed: int) -> float | None:
    return round(100 * met / (met + missed), 1) if met + missed else None


def _share(count: int, total: int) -> float | None:
    return round(100 * count / total, 1) if total else None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def median_minutes(histogram: list[int]) -> float | None:
    """The median of a handle-time histogram, read to the upper edge of its bucket (minutes)."""
    total = sum(histogram)
    if not total:
        return None
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen * 2 >= total:
            edges = HANDLE_EDGES_MINUTES
            return float(edges[index]) if index < len(edges) else float(edges[-1])
    return None


_COLUMNS = (
    "day",
    "store_id",
    "agent_id",
    "platform_met",
    "platform_missed",
    "team_met",
    "team_missed",
    *FIRST_RESPONSE_BUCKETS,
    "inbound_by_hour",
    "solved",
    "handle_histogram",
    "inbound_by_intent",
)


@dataclass
class Report:
    tenant: Tenant
    filters: ReportFilters
    agents: dict[int, str]  # user pk -> name, for labels
    computed_at: datetime | None
    tables: dict[str, Table]


def _rows(tenant: Tenant, filters: ReportFilters) -> list[tuple[Any, ...]]:
    rows = DailyRollup.objects.filter(
        tenant=tenant,
        day__gte=filters.date_from,
        day__lte=filters.date_to,
        store_id__in=[store.pk for store in filters.stores],
    )
    if filters.agent_id is not None:
        rows = rows.filter(agent_id=filters.agent_id)
    return list(rows.values_list(*_COLUMNS))


def report(
    *, tenant: Tenant, membership: Membership, filters: ReportFilters, agents: dict[int, str]
) -> Report:
    """Every figure of the report page (one query of rollups, one of the backlog)."""
    stores = {store.pk: store for store in filters.stores}
    rate: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    frt = [0, 0, 0, 0]
    attainment: dict[tuple[int | None, date], list[int]] = defaultdict(lambda: [0, 0])
    heat = [[0] * 24 for _ in range(7)]
    handle = [0] * (len(HANDLE_EDGES_MINUTES) + 1)
    handle_by_store: dict[int, list[int]] = defaultdict(lambda: [0] * len(handle))
    solved = 0
    inbound = 0
    intents = dict.fromkeys(Intent.values, 0)
    for row in _rows(tenant, filters):
        day, store_id, agent_id, p_met, p_missed, t_met, t_missed = row[:7]
        buckets, hours, solved_count, histogram = row[7:11], row[11], row[12], row[13]
        for intent, count in row[14].items():
            if intent in intents:  # a label no longer offered: counted as not labelled
                intents[intent] += count
        cell = rate[(day, store_id)]
        cell[0] += p_met
        cell[1] += p_missed
        frt = list(map(add, frt, buckets))
        if t_met or t_missed:
            week = attainment[(agent_id, _monday(day))]
            week[0] += t_met
            week[1] += t_missed
        if hours:
            heat[day.weekday()] = list(map(add, heat[day.weekday()], hours))
            inbound += sum(hours)
        solved += solved_count
        if histogram:
            handle = list(map(add, handle, histogram))
            handle_by_store[store_id] = list(map(add, handle_by_store[store_id], histogram))

    tables: dict[str, Table] = {}
    tables["response-rate"] = Table(
        "response-rate",
        REPORTS["response-rate"],
        ["date", "store", "answered_in_time", "missed", "response_rate_percent", "target_percent"],
        [
            [
                day.isoformat(),
                stores[store_id].name,
                met,
                missed,
                _percent(met, missed),
                market_target_percent(stores[store_id].region),
            ]
            for (day, store_id), (met, missed) in sorted(
                rate.items(), key=lambda item: (item[0][0], stores[item[0][1]].name)
            )
        ],
        extra={
            "days": [
                filters.date_from + timedelta(days=n)
                for n in range((filters.date_to - filters.date_from).days + 1)
            ],
            "stores": sorted(stores.values(), key=lambda store: store.name),
        },
    )
    tables["first-response"] = Table(
        "first-response",
        REPORTS["first-response"],
        ["bucket", "first_responses"],
        [[label, count] for label, count in zip(FRT_LABELS, frt, strict=True)],
    )
    weeks = sorted({week for _, week in attainment})
    tables["attainment"] = Table(
        "attainment",
        REPORTS["attainment"],
        ["week", "agent", "met", "missed", "attainment_percent"],
        [
            [week.isoformat(), _agent_name(agents, agent_id), met, missed, _percent(met, missed)]
            for (agent_id, week), (met, missed) in sorted(
                attainment.items(), key=lambda item: (item[0][1], _agent_name(agents, item[0][0]))
            )
        ],
        extra={"weeks": weeks},
    )
    tables["volume"] = Table(
        "volume",
        REPORTS["volume"],
        ["weekday", "hour", "buyer_messages"],
        [[WEEKDAY_NAMES[wd], hour, heat[wd][hour]] for wd in range(7) for hour in range(24)],
        extra={"grid": heat},
    )
    counts = _backlog(tenant, membership, filters)
    tables["backlog"] = Table(
        "backlog",
        REPORTS["backlog"],
        ["folder", "tickets", "at_least"],
        [[label, count, count >= FOLDER_COUNT_CAP] for label, count in counts],
    )
    tables["handle-time"] = Table(
        "handle-time",
        REPORTS["handle-time"],
        ["store", "solved", "median_handle_minutes"],
        [
            [stores[store_id].name, sum(histogram), median_minutes(histogram)]
            for store_id, histogram in sorted(
                handle_by_store.items(), key=lambda item: stores[item[0]].name
            )
        ]
        + [["All stores", solved, median_minutes(handle)]],
    )
    labelled = sum(intents.values())
    tables["intents"] = Table(
        "intents",
        REPORTS["intents"],
        ["intent", "label", "buyer_messages", "share_percent"],
        [
            [
                intent.value,
                intent.label,
                intents[intent.value],
                _share(intents[intent.value], labelled),
            ]
            for intent in Intent
        ],
        # Buyer messages of the range triage has not labelled (yet): in the volume, not here.
        extra={"labelled": labelled, "not_labelled": max(inbound - labelled, 0)},
    )
    state = RollupState.objects.filter(tenant=tenant).values_list("computed_at", flat=True).first()
    return Report(tenant, filters, agents, state, tables)


def _agent_name(agents: dict[int, str], agent_id: int | None) -> str:
    if agent_id is None:
        return "Outside Sellerdesk / unassigned"
    return agents.get(agent_id, "Former member")


def _backlog(
    tenant: Tenant, membership: Membership, filters: ReportFilters
) -> list[tuple[str, int]]:
    """Open, Due soon and Overdue now, counted as the mailbox's folders are (capped)."""
    counts = folder_counts(tenant=tenant, membership=membership, store=filters.store)
    return [
        ("Open", counts["open"]),
        ("Due soon", counts["due_soon"]),
        ("Overdue", counts["overdue"]),
    ]
