"""The injectable clock: a test-only offset across processes, honoured only when allowed."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from services.common.clock import DEFAULT_TZ, FrozenClock, SystemClock, local_date


def test_offset_file_moves_time_only_when_allowed(tmp_path, monkeypatch):
    offset = tmp_path / "clock"
    offset.write_text(str(3 * 86400))
    monkeypatch.setenv("TEST_CLOCK_FILE", str(offset))
    monkeypatch.delenv("ALLOW_TEST_CLOCK", raising=False)
    assert abs(SystemClock().now() - datetime.now(timezone.utc)) < timedelta(seconds=5)  # production ignores it
    monkeypatch.setenv("ALLOW_TEST_CLOCK", "1")
    clock = SystemClock()
    assert abs(clock.now() - datetime.now(timezone.utc) - timedelta(days=3)) < timedelta(seconds=5)
    offset.write_text("-60")  # moved again by the test, read again without a restart
    os.utime(offset, (1, 1))
    assert abs(clock.now() - datetime.now(timezone.utc) + timedelta(minutes=1)) < timedelta(seconds=5)


def test_frozen_clock_and_local_dates():
    clock = FrozenClock(datetime(2025, 1, 24, 16, 30, tzinfo=timezone.utc))
    assert local_date(clock.now(), DEFAULT_TZ) == datetime(2025, 1, 25).date()  # 00:30 next day in Shanghai
    clock.move(hours=-1)
    assert local_date(clock.now(), DEFAULT_TZ).isoformat() == "2025-01-24"
    with pytest.raises(TypeError):
        local_date(clock.now())  # the township's zone is always named (DOMAIN "Time")
    with pytest.raises(ValueError):
        FrozenClock(datetime(2025, 1, 24))


@pytest.mark.parametrize("utc, zone, local, latest", [
    # 15:30 UTC on 26 Jan: the 26th in Shanghai, the 27th in Tokyo, the latest date anywhere the 27th
    (datetime(2025, 1, 26, 15, 30), "Asia/Shanghai", "2025-01-26", "2025-01-27"),
    (datetime(2025, 1, 26, 15, 30), "Asia/Tokyo", "2025-01-27", "2025-01-27"),
    (datetime(2025, 1, 26, 9, 59), "Asia/Urumqi", "2025-01-26", "2025-01-26"),
    (datetime(2025, 1, 26, 10, 0), "Asia/Urumqi", "2025-01-26", "2025-01-27"),
])
def test_local_dates_in_the_townships_zone_and_the_latest_anywhere(utc, zone, local, latest):
    from services.common.clock import latest_local_date

    moment = utc.replace(tzinfo=timezone.utc)
    assert local_date(moment, zone).isoformat() == local
    assert latest_local_date(moment).isoformat() == latest
    assert latest_local_date(moment) >= local_date(moment, zone)
