"""Business time: opening-hour edges, holidays, DST changes, and the checks on what is stored."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from sla.calendar import BusinessCalendar, CalendarError, clean_holidays, clean_week, zone_named

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = [[["09:00", "17:00"]]] * 5 + [[], []]


def local(*args: int, zone: zoneinfo.ZoneInfo = NEW_YORK) -> datetime:
    return datetime(*args, tzinfo=zone)


@pytest.fixture
def office() -> BusinessCalendar:
    return BusinessCalendar.build(zone=NEW_YORK, week=WEEKDAYS_9_TO_5)


def test_time_after_closing_carries_over_the_weekend(office):
    # Friday 2026-11-13 16:30 + 4 business hours: 30 min on Friday, 3.5 h on Monday.
    assert office.add(local(2026, 11, 13, 16, 30), 4 * 3600) == local(2026, 11, 16, 12, 30)


def test_a_target_that_ends_exactly_at_closing_is_due_at_closing(office):
    assert office.add(local(2026, 11, 12, 16, 0), 3600) == local(2026, 11, 12, 17, 0)


def test_a_message_at_closing_time_counts_from_the_next_opening(office):
    assert office.add(local(2026, 11, 12, 17, 0), 3600) == local(2026, 11, 13, 10, 0)
    assert office.add(local(2026, 11, 12, 16, 59), 3600) == local(2026, 11, 13, 9, 59)


def test_a_message_before_opening_counts_from_opening(office):
    assert office.add(local(2026, 11, 10, 7, 0), 1800) == local(2026, 11, 10, 9, 30)
    assert office.add(local(2026, 11, 10, 9, 0), 0) == local(2026, 11, 10, 9, 0)
    assert office.add(local(2026, 11, 14, 12, 0), 0) == local(2026, 11, 16, 9, 0)  # Saturday


def test_split_hours_skip_the_lunch_break():
    calendar = BusinessCalendar.build(
        zone=NEW_YORK, week=[[["09:00", "12:00"], ["13:00", "17:00"]]] * 7
    )
    assert calendar.add(local(2026, 11, 10, 11, 30), 3600) == local(2026, 11, 10, 13, 30)
    assert calendar.seconds_between(local(2026, 11, 10, 11, 0), local(2026, 11, 10, 14, 0)) == (
        2 * 3600
    )


def test_holidays_are_closed_all_day():
    calendar = BusinessCalendar.build(
        zone=NEW_YORK, week=WEEKDAYS_9_TO_5, holidays=["2026-11-26", "2026-11-27"]
    )
    # Wednesday before Thanksgiving, 16:00 + 2 h: 1 h on Wednesday, Thursday and Friday closed.
    assert calendar.add(local(2026, 11, 25, 16, 0), 7200) == local(2026, 11, 30, 10, 0)
    assert calendar.seconds_between(local(2026, 11, 25, 0, 0), local(2026, 12, 1, 0, 0)) == (
        2 * 8 * 3600
    )


def test_opening_hours_follow_the_wall_clock_across_dst_changes(office):
    # Spring forward on Sunday 2026-03-08: Friday 16:00 EST + 2 h is Monday 10:00 EDT.
    due = office.add(local(2026, 3, 6, 16, 0), 7200)
    assert due == local(2026, 3, 9, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    # Fall back on Sunday 2026-11-01: Friday 16:00 EDT + 2 h is Monday 10:00 EST.
    due = office.add(local(2026, 10, 30, 16, 0), 7200)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_a_day_open_around_the_clock_lasts_23_or_25_hours_when_the_clocks_change():
    # A holiday elsewhere keeps the calendar off its "no hours at all" shortcut.
    calendar = BusinessCalendar.build(zone=NEW_YORK, week=None, holidays=["2026-12-25"])
    spring = calendar.seconds_between(local(2026, 3, 8, 0, 0), local(2026, 3, 9, 0, 0))
    autumn = calendar.seconds_between(local(2026, 11, 1, 0, 0), local(2026, 11, 2, 0, 0))
    assert (spring, autumn) == (23 * 3600, 25 * 3600)
    # 24 open hours from the midnight before the spring change end at 01:00 the next day.
    assert calendar.add(local(2026, 3, 8, 0, 0), 24 * 3600) == local(2026, 3, 9, 1, 0)
    assert calendar.add(local(2026, 12, 24, 12, 0), 24 * 3600) == local(2026, 12, 26, 12, 0)


def test_opening_hours_at_a_time_the_clocks_skip_are_read_with_the_offset_before():
    night = BusinessCalendar.build(zone=NEW_YORK, week=[[["02:00", "04:00"]]] * 7)
    # 02:00 does not exist on 2026-03-08: it is read as 07:00 UTC (03:00 EDT), so that night
    # is open one hour instead of two.
    assert night.seconds_between(local(2026, 3, 8, 0, 0), local(2026, 3, 8, 12, 0)) == 3600


def test_around_the_clock_is_plain_addition():
    calendar = BusinessCalendar(zone=NEW_YORK)
    start = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert calendar.add(start, 86400) == start + timedelta(days=1)
    assert calendar.seconds_between(start, start + timedelta(hours=30)) == 30 * 3600
    assert calendar.seconds_between(start, start - timedelta(hours=1)) == 0


def test_a_calendar_of_holidays_only_never_falls_due():
    mondays = BusinessCalendar.build(
        zone=NEW_YORK, week=[[["09:00", "10:00"]], [], [], [], [], [], []]
    )
    assert mondays.add(local(2026, 1, 1, 0, 0), 3600) == local(2026, 1, 5, 10, 0)
    every_monday_off = BusinessCalendar(
        zone=NEW_YORK,
        week=mondays.week,
        holidays=frozenset(datetime(2026, 1, 5).date() + timedelta(weeks=n) for n in range(200)),
    )
    assert every_monday_off.add(local(2026, 1, 1, 0, 0), 60) is None


# --- What may be stored ------------------------------------------------------------------------


def test_clean_week_sorts_ranges_and_accepts_touching_ones():
    week = clean_week(
        [[["13:00", "17:00"], ["09:00", "13:00"]], [["00:00", "24:00"]], [], [], [], [], []]
    )
    assert week[0] == [["09:00", "13:00"], ["13:00", "17:00"]]
    assert week[1] == [["00:00", "24:00"]]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ([["09:00", "12:00"], ["11:00", "17:00"]], "Monday: 09:00-12:00 and 11:00-17:00 overlap."),
        ([["17:00", "09:00"]], "Monday: 17:00-09:00 ends before it starts."),
        ([["09:00", "09:00"]], "Monday: 09:00-09:00 ends before it starts."),
        ([["25:00", "26:00"]], "“25:00” is not a time of day (use HH:MM, 00:00 to 24:00)."),
        ([["09:00", "24:30"]], "“24:30” is past the end of the day (24:00 is the latest)."),
        ([["9", "17:00"]], "“9” is not a time of day (use HH:MM, 00:00 to 24:00)."),
    ],
)
def test_bad_opening_hours_are_refused_with_the_reason(day, message):
    with pytest.raises(CalendarError) as refused:
        clean_week([day, [], [], [], [], [], []])
    assert str(refused.value) == message


def test_empty_opening_hours_make_no_calendar():
    with pytest.raises(CalendarError) as refused:
        BusinessCalendar.build(zone=NEW_YORK, week=[[]] * 7)
    assert "empty" in str(refused.value)
    with pytest.raises(CalendarError):
        clean_week([[]] * 6)


def test_time_zones_and_holidays_are_checked():
    assert zone_named("Asia/Bangkok") == zoneinfo.ZoneInfo("Asia/Bangkok")
    for bad in ("Mars/Olympus_Mons", "", "../etc/passwd", "America/New York"):
        with pytest.raises(CalendarError) as refused:
            zone_named(bad)
        assert str(refused.value) == (
            f"“{bad}” is not a time zone Sellerdesk knows (e.g. America/New_York)."
        )
    assert clean_holidays(["2026-12-25", " 2026-01-01", "2026-12-25"]) == [
        "2026-01-01",
        "2026-12-25",
    ]
    with pytest.raises(CalendarError) as refused:
        clean_holidays(["2026-02-30"])
    assert str(refused.value) == "“2026-02-30” is not a date (write YYYY-MM-DD)."
