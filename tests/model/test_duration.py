from __future__ import annotations

import pytest

from gitops_sim.model import duration


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        pytest.param("1m", 60_000, id="minutes"),
        pytest.param("10m0s", 600_000, id="go-string-form"),
        pytest.param("1h30m", 5_400_000, id="compound"),
        pytest.param("500ms", 500, id="milliseconds"),
        pytest.param("1.5s", 1_500, id="fraction"),
        pytest.param("0", 0, id="bare-zero"),
    ],
)
def test_parses_go_durations(text: str, ms: int) -> None:
    assert duration.parse(text) == ms


@pytest.mark.parametrize("text", ["", "10", "5 minutes", "1d", "m"])
def test_rejects_what_go_rejects_with_a_hint(text: str) -> None:
    with pytest.raises(duration.DurationError, match="Go duration"):
        duration.parse(text)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        pytest.param(0, "0s", id="zero"),
        pytest.param(600_000, "10m0s", id="ten-minutes"),
        pytest.param(3_600_000, "1h0m0s", id="one-hour"),
        pytest.param(30_000, "30s", id="seconds"),
        pytest.param(1_500, "1.5s", id="fraction"),
        pytest.param(250, "250ms", id="sub-second"),
        pytest.param(570_000, "9m30s", id="flux-default-timeout"),
    ],
)
def test_formats_like_go_duration_string(ms: int, text: str) -> None:
    assert duration.format(ms) == text


def test_timestamps_are_rfc3339_whole_seconds_utc() -> None:
    assert duration.rfc3339(1_735_689_600_750) == "2025-01-01T00:00:00Z"
    assert duration.parse_rfc3339("2025-01-01T00:00:00Z") == 1_735_689_600_000
