"""Kline boundaries against a datetime-based reference; time zones; window sizes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotex.market.intervals import (DAY, HOUR, INTERVALS, MINUTE, parse_time_zone,
                                     parse_window, source_for)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MINUTES = {"1s": None, "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120,
            "4h": 240, "6h": 360, "8h": 480, "12h": 720, "1d": 1440}


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


def reference_floor(name: str, t: int, off_min: int) -> int:
    """Open time by calendar arithmetic in the local time zone."""
    tz = timezone(timedelta(minutes=off_min))
    local = (EPOCH + timedelta(milliseconds=t)).astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "1s":
        return t - t % 1000
    if name in _MINUTES:
        step = timedelta(minutes=_MINUTES[name])
        return ms(midnight + (local - midnight) // step * step)
    if name == "3d":
        days = (midnight.replace(tzinfo=timezone.utc) - EPOCH).days
        return ms(midnight - timedelta(days=days % 3))
    if name == "1w":
        return ms(midnight - timedelta(days=local.weekday()))
    assert name == "1M"
    return ms(midnight.replace(day=1))


times = st.integers(0, 4_102_444_800_000)  # 1970 .. 2100
offsets = st.integers(-12 * 60, 14 * 60)


@given(st.sampled_from(sorted(INTERVALS)), times, offsets)
def test_floor_matches_calendar_reference(name, t, off_min):
    iv = INTERVALS[name]
    off = off_min * MINUTE
    f = iv.floor(t, off)
    assert f == reference_floor(name, t, off_min)
    nxt = iv.next(f, off)
    assert f <= t < nxt
    assert iv.floor(nxt, off) == nxt
    assert iv.shift(nxt, -1, off) == f
    assert iv.ceil(t, off) == (t if f == t else nxt)


@given(st.sampled_from(sorted(INTERVALS)), offsets, times)
def test_source_candles_tile_the_shifted_interval(name, off_min, t):
    iv, off = INTERVALS[name], off_min * MINUTE
    src = source_for(iv, off)
    f = iv.floor(t, off)
    assert src.floor(f) == f  # every shifted boundary is a UTC boundary of the source
    assert src.floor(iv.next(f, off)) == iv.next(f, off)


def test_source_prefers_the_coarsest_series():
    assert source_for(INTERVALS["1d"], 0).name == "1d"
    assert source_for(INTERVALS["1d"], 8 * HOUR).name == "8h"
    assert source_for(INTERVALS["1d"], 5 * HOUR + 45 * MINUTE).name == "15m"
    assert source_for(INTERVALS["1h"], -3 * HOUR).name == "1h"
    assert source_for(INTERVALS["1h"], 5 * HOUR + 30 * MINUTE).name == "30m"
    assert source_for(INTERVALS["1w"], 0).name == "1w"
    assert source_for(INTERVALS["1M"], -1 * HOUR).name == "1h"
    assert source_for(INTERVALS["3d"], 2 * HOUR).name == "2h"
    assert source_for(INTERVALS["1s"], 7 * MINUTE).name == "1s"


def test_week_opens_monday_and_month_on_the_first():
    t = ms(datetime(2024, 2, 29, 13, 0, tzinfo=timezone.utc))  # a Thursday
    assert INTERVALS["1w"].floor(t) == ms(datetime(2024, 2, 26, tzinfo=timezone.utc))
    assert INTERVALS["1M"].floor(t) == ms(datetime(2024, 2, 1, tzinfo=timezone.utc))
    assert INTERVALS["1M"].next(INTERVALS["1M"].floor(t)) == ms(datetime(2024, 3, 1, tzinfo=timezone.utc))
    # +14:00: already Friday 1 March locally
    off = 14 * HOUR
    assert INTERVALS["1M"].floor(t, off) == ms(datetime(2024, 3, 1, tzinfo=timezone.utc)) - off
    assert INTERVALS["1M"].shift(INTERVALS["1M"].floor(t), -14) == ms(datetime(2022, 12, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("text,minutes", [
    ("0", 0), ("8", 480), ("4", 240), ("-1:00", -60), ("05:45", 345), ("+8", 480),
    (" 8", 480), ("14:00", 840), ("-12:00", -720), ("-0:30", -30), ("+05:30", 330), ("00", 0),
])
def test_time_zone_formats(text, minutes):
    assert parse_time_zone(text) == minutes * MINUTE


@pytest.mark.parametrize("text", ["14:01", "-12:01", "15", "-13", "1:60", "8:5", "8:",
                                  "abc", "+-1", "1.5", "08:00:00", "UTC", "", "123"])
def test_bad_time_zones(text):
    with pytest.raises(ValueError):
        parse_time_zone(text)


@pytest.mark.parametrize("text,ms_", [("1m", MINUTE), ("59m", 59 * MINUTE), ("1h", HOUR),
                                      ("23h", 23 * HOUR), ("1d", DAY), ("7d", 7 * DAY)])
def test_window_sizes(text, ms_):
    assert parse_window(text) == ms_


@pytest.mark.parametrize("text", ["0m", "60m", "24h", "8d", "1d2h", "01m", "1M", "1w", "1s",
                                  "m", "1", "1H", "100m"])
def test_bad_window_sizes(text):
    with pytest.raises(ValueError):
        parse_window(text)
