"""Cron schedules as robfig/cron's standard parser reads them: what `next` answers after a given
time, and the parser's own error messages."""

from __future__ import annotations

import pytest

from gitops_sim.model import cron, duration

T0 = duration.parse_rfc3339("2025-01-01T00:00:00Z")  # a Wednesday


def upcoming(spec: str, after: int = T0, count: int = 3) -> list[str]:
    schedule = cron.parse(spec)
    out = []
    for _ in range(count):
        nxt = schedule.next(after)
        assert nxt is not None
        out.append(duration.rfc3339(nxt))
        after = nxt
    return out


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("@hourly", ["2025-01-01T01:00:00Z", "2025-01-01T02:00:00Z"], id="hourly"),
        pytest.param("@daily", ["2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"], id="daily"),
        pytest.param("@weekly", ["2025-01-05T00:00:00Z", "2025-01-12T00:00:00Z"], id="weekly-on-sunday"),
        pytest.param("@monthly", ["2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"], id="monthly"),
        pytest.param("*/15 * * * *", ["2025-01-01T00:15:00Z", "2025-01-01T00:30:00Z"], id="step"),
        pytest.param("0 9 * * MON-FRI", ["2025-01-01T09:00:00Z", "2025-01-02T09:00:00Z"], id="weekdays"),
        pytest.param("30 2 1,15 * *", ["2025-01-01T02:30:00Z", "2025-01-15T02:30:00Z"], id="list"),
        pytest.param(
            "0 0 13 * 5", ["2025-01-03T00:00:00Z", "2025-01-10T00:00:00Z"], id="day-of-month-or-week"
        ),
        pytest.param(
            "0 0 13 */2 5", ["2025-01-03T00:00:00Z", "2025-01-10T00:00:00Z"], id="or-with-a-month-step"
        ),
        pytest.param(
            "TZ=Europe/Paris 0 9 * * *", ["2025-01-01T08:00:00Z", "2025-01-02T08:00:00Z"], id="time-zone"
        ),
        pytest.param("@every 90s", ["2025-01-01T00:01:30Z", "2025-01-01T00:03:00Z"], id="every"),
    ],
)
def test_next_is_the_first_activation_strictly_after(spec: str, expected: list[str]) -> None:
    assert upcoming(spec, count=len(expected)) == expected


def test_next_follows_a_daylight_saving_change_in_the_schedule_s_zone() -> None:
    before = duration.parse_rfc3339("2025-03-29T12:00:00Z")
    assert upcoming("TZ=Europe/Paris 0 9 * * *", before, 2) == [
        "2025-03-30T07:00:00Z",
        "2025-03-31T07:00:00Z",
    ]


def test_a_date_that_never_comes_gives_up_after_five_years() -> None:
    assert cron.parse("0 0 30 2 *").next(T0) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("* * * *", "expected exactly 5 fields, found 4: [* * * *]", id="fields"),
        pytest.param("61 * * * *", "end of range (61) above maximum (59): 61", id="above"),
        pytest.param("* * 0 * *", "beginning of range (0) below minimum (1): 0", id="below"),
        pytest.param("* 5-2 * * *", "beginning of range (5) beyond end of range (2): 5-2", id="backwards"),
        pytest.param("* * * * 7", "end of range (7) above maximum (6): 7", id="sunday-is-0"),
        pytest.param(
            "x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax', id="int"
        ),
        pytest.param("@fortnightly", "unrecognized descriptor: @fortnightly", id="descriptor"),
        pytest.param(
            "TZ=Mars/Olympus * * * * *",
            "provided bad location Mars/Olympus: unknown time zone Mars/Olympus",
            id="zone",
        ),
        pytest.param("", "empty spec string", id="empty"),
    ],
)
def test_a_schedule_robfig_refuses_is_refused_with_its_message(spec: str, message: str) -> None:
    with pytest.raises(cron.CronError) as caught:
        cron.parse(spec)
    assert str(caught.value) == message
