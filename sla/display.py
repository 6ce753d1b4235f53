"""How the clocks show in the mailbox: "due in 1 h 20 m" and "overdue 3 h" badges, always a word
with the colour (red overdue, amber due soon, grey otherwise), the exact due time on hover.

Badges are made here as strings, once per row (the list prints 50 rows every few seconds, and a
template include per row would cost more than the row itself); `static/js/sla.js` rewrites their
words every half minute from `data-sla-due`, so an open mailbox counts down without a request.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from inbox.display import exact_time, month_names
from inbox.models import Conversation
from inbox.selectors import due_soon_window

CLOCK_NAMES = {
    "platform": "TikTok reply window",
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}


def clock_minute() -> str:
    """The current minute, for change stamps of lists that time alone changes."""
    return timezone.now().strftime("%Y%m%d%H%M")


def duration_words(delta: timedelta) -> str:
    """ "2 d 3 h", "1 h 20 m", "3 h", "45 m"; under a minute counts as 1 m."""
    minutes = max(int(delta.total_seconds() // 60), 1)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    return f"{minutes} m"


@dataclass(frozen=True, slots=True)
class Due:
    clock: str  # a CLOCK_NAMES key
    at: datetime


def badge_state(due: datetime, now: datetime) -> tuple[str, str]:
    """(css class, words) of a due time seen at `now`."""
    left = due - now
    if left <= timedelta(0):
        return "sla-overdue", f"overdue {duration_words(-left)}"
    kind = "sla-soon" if left <= due_soon_window() else "sla-later"
    return kind, f"due in {duration_words(left)}"


def badge(
    due: Due,
    *,
    now: datetime,
    zone: tzinfo,
    months: list[str] | None = None,
    named: bool = True,
) -> SafeString:
    """One badge: `<span class="sla-badge sla-overdue" …>overdue 3 h</span>`; `named` puts the
    clock's name in front for screen readers (the header writes it out instead)."""
    kind, words = badge_state(due.at, now)
    iso, text = exact_time(due.at, zone, months or month_names())
    name = html.escape(CLOCK_NAMES[due.clock])
    hidden = f'<span class="visually-hidden">{name}: </span>' if named else ""
    return mark_safe(  # noqa: S308 (every value is escaped)
        f'<span class="sla-badge {kind}" data-sla-due="{html.escape(iso)}" '
        f'data-sla-soon="{int(due_soon_window().total_seconds())}" '
        f'title="{name}: due {html.escape(text)}">{hidden}{html.escape(words)}</span>'
    )


def soonest(
    *,
    platform_due_at: datetime | None,
    sla_reply_due_at: datetime | None,
    sla_resolution_due_at: datetime | None,
    first_response_at: datetime | None,
) -> Due | None:
    """The clock that falls due first (TikTok's wins a tie: it is the one that costs the shop)."""
    reply = "first_response" if first_response_at is None else "next_response"
    candidates = [
        Due(clock, at)
        for clock, at in (
            ("platform", platform_due_at),
            (reply, sla_reply_due_at),
            ("resolution", sla_resolution_due_at),
        )
        if at is not None
    ]
    return min(candidates, key=lambda due: due.at, default=None)


def ticket_badges(ticket: Conversation, *, now: datetime, zone: tzinfo) -> list[SafeString]:
    """Every running clock of an open ticket, soonest first (the ticket header)."""
    months = month_names()
    reply = "first_response" if ticket.first_response_at is None else "next_response"
    dues = [
        Due(clock, at)
        for clock, at in (
            ("platform", ticket.platform_due_at),
            (reply, ticket.sla_reply_due_at),
            ("resolution", ticket.sla_resolution_due_at),
        )
        if at is not None
    ]
    dues.sort(key=lambda due: due.at)
    return [
        mark_safe(  # noqa: S308 (the badge is escaped)
            f'<span class="sla-clock">{html.escape(CLOCK_NAMES[due.clock])} '
            f"{badge(due, now=now, zone=zone, months=months, named=False)}</span>"
        )
        for due in dues
    ]
