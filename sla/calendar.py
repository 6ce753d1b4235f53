"""Business time: weekly opening hours and holidays in a store's time zone.

A team SLA counts only the time the team is open: "first response within 4 business hours" for a
buyer who writes at 16:30 on a Friday, with hours 09:00-17:00 Monday to Friday, falls due at 12:30
on Monday. Hours are wall-clock times of the store's zone, so a DST change moves them with the
clock on the wall (a 09:00 opening is 09:00 local on both sides of the change), and a day that is
open 00:00-24:00 lasts 23 or 25 hours on the days the clocks change.

The platform's own clock (TikTok's 24 h / 12 h reply window) is NOT business time: see
`sla.clocks.platform_due`.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Past this many days without a single open hour (every day a holiday), a clock never falls due.
SEARCH_DAYS = 3 * 366
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
END_OF_DAY = "24:00"

# One weekday's opening hours: ("09:00", "12:00"), ("13:00", "17:00"); "24:00" ends the day.
DayHours = Sequence[Sequence[str]]


class CalendarError(ValueError):
    """Opening hours, holidays or a time zone that cannot be used; the message is for a person."""


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone `name` ("Europe/London"), or CalendarError for a name that is not one."""
    cleaned = (name or "").strip()
    if not cleaned or cleaned not in _zone_names():
        raise CalendarError(
            f"“{name}” is not a time zone Sellerdesk knows (e.g. America/New_York)."
        )
    return zoneinfo.ZoneInfo(cleaned)


_ZONES: frozenset[str] = frozenset()


def _zone_names() -> frozenset[str]:
    global _ZONES
    if not _ZONES:
        _ZONES = frozenset(zoneinfo.available_timezones())
    return _ZONES


def _minutes(text: str) -> int:
    match = _CLOCK.match(str(text).strip())
    if match is None:
        raise CalendarError(f"“{text}” is not a time of day (use HH:MM, 00:00 to 24:00).")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes:
        raise CalendarError(f"“{text}” is past the end of the day (24:00 is the latest).")
    return hours * 60 + minutes


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clean_week(week: Sequence[DayHours]) -> list[list[list[str]]]:
    """Seven days of opening hours, checked and sorted: each range starts before it ends, and the
    ranges of a day do not overlap (touching is fine: 09:00-12:00 and 12:00-17:00). Raises
    CalendarError naming the day."""
    if len(week) != len(WEEKDAYS):
        raise CalendarError("Opening hours need one entry per weekday, Monday to Sunday.")
    cleaned: list[list[list[str]]] = []
    for day, ranges in zip(WEEKDAYS, week, strict=True):
        spans: list[tuple[int, int]] = []
        for pair in ranges:
            if len(pair) != 2:
                raise CalendarError(f"{day}: write each range as start and end, e.g. 09:00-17:00.")
            start, end = _minutes(pair[0]), _minutes(pair[1])
            if start >= end:
                raise CalendarError(
                    f"{day}: {_clock_text(start)}-{_clock_text(end)} ends before it starts."
                )
            spans.append((start, end))
        spans.sort()
        for (start_a, end_a), (start_b, end_b) in itertools.pairwise(spans):
            if start_b < end_a:
                raise CalendarError(
                    f"{day}: {_clock_text(start_a)}-{_clock_text(end_a)} and "
                    f"{_clock_text(start_b)}-{_clock_text(end_b)} overlap."
                )
        cleaned.append([[_clock_text(start), _clock_text(end)] for start, end in spans])
    return cleaned


def parse_day(text: str, *, day: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-17:00" -> [["09:00", "12:00"], ["13:00", "17:00"]]; "" -> closed."""
    ranges: list[list[str]] = []
    for part in re.split(r"[,;]", text or ""):
        part = part.strip()
        if not part:
            continue
        pieces = re.split(r"\s*[-\u2013]\s*", part)  # hyphen or en dash
        if len(pieces) != 2:
            raise CalendarError(f"{day}: “{part}” is not a range (write 09:00-17:00).")
        ranges.append([pieces[0].strip(), pieces[1].strip()])
    return ranges


def day_text(ranges: DayHours) -> str:
    return ", ".join(f"{start}-{end}" for start, end in ranges)


def clean_holidays(values: Sequence[str]) -> list[str]:
    """ISO dates, sorted and unique."""
    days: set[date] = set()
    for value in values:
        try:
            days.add(date.fromisoformat(str(value).strip()))
        except ValueError as error:
            raise CalendarError(f"“{value}” is not a date (write YYYY-MM-DD).") from error
    return [day.isoformat() for day in sorted(days)]


ALWAYS_OPEN: tuple[tuple[tuple[int, int], ...], ...] = tuple(((0, 24 * 60),) for _ in WEEKDAYS)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (minutes after local midnight) and holidays, in `zone`."""

    zone: zoneinfo.ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...] = ALWAYS_OPEN
    holidays: frozenset[date] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        zone: zoneinfo.ZoneInfo,
        week: Sequence[DayHours] | None,
        holidays: Sequence[str] = (),
    ) -> BusinessCalendar:
        """From stored (already cleaned) hours; `week=None` is open around the clock."""
        spans = (
            ALWAYS_OPEN
            if week is None
            else tuple(
                tuple((_minutes(start), _minutes(end)) for start, end in day)
                for day in clean_week(week)
            )
        )
        if not any(spans):
            raise CalendarError("Opening hours are empty: open at least one range in the week.")
        return cls(
            zone=zone, week=spans, holidays=frozenset(date.fromisoformat(d) for d in holidays)
        )

    @property
    def always_open(self) -> bool:
        return self.week == ALWAYS_OPEN and not self.holidays

    def _instant(self, day: date, minutes: int) -> datetime:
        """Local `day` at `minutes` after midnight, in UTC (24:00 is the next midnight). A time
        the clocks skip (02:30 on a spring-forward night) is read with the offset before it."""
        if minutes >= 24 * 60:
            day, minutes = day + timedelta(days=1), minutes - 24 * 60
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def open_spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open stretches ending after `start`, in order, as UTC instants (clipped to begin
        no earlier than `start`); stops after SEARCH_DAYS days."""
        day = start.astimezone(self.zone).date()
        for _ in range(SEARCH_DAYS):
            if day not in self.holidays:
                for open_at, close_at in self.week[day.weekday()]:
                    begin, end = self._instant(day, open_at), self._instant(day, close_at)
                    if end > start:
                        yield max(begin, start), end
            day += timedelta(days=1)

    def add(self, start: datetime, seconds: float) -> datetime | None:
        """The instant at which `seconds` of open time have passed since `start` (None: no open
        time within SEARCH_DAYS). Zero seconds is the first open instant from `start` on."""
        if self.always_open:
            return start + timedelta(seconds=max(seconds, 0))
        remaining = timedelta(seconds=max(seconds, 0))
        for begin, end in self.open_spans(start):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        return None

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Open seconds in [start, end)."""
        if end <= start:
            return 0
        if self.always_open:
            return int((end - start).total_seconds())
        total = timedelta()
        for begin, finish in self.open_spans(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return int(total.total_seconds())
