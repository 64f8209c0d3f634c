"""Go durations and Kubernetes timestamps, as Flux reads and prints them.

`parse` accepts what `metav1.Duration` accepts in Flux manifests (``1m``, ``10m0s``, ``1h30m``,
``500ms``, ``1.5h``); `format` prints what Go's `time.Duration.String` prints, which is what
Flux puts in messages such as ``next run in 10m0s``. Virtual time is integer milliseconds.

This module must never read the real time.
"""

from __future__ import annotations

import datetime as _dt
import re

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000}
_TOKEN = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")


MAX_MS = (2**63 - 1) // 1_000_000
"""The longest duration Go can hold (an int64 of nanoseconds, about 2562047h47m): Go's
`time.ParseDuration` refuses anything longer ("invalid duration"), so do we."""


class DurationError(ValueError):
    pass


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def parse(text: str) -> int:
    """Milliseconds in a Go duration string; raises DurationError with a hint when invalid."""
    s = text.strip()
    if s in ("0", ""):
        if s == "":
            raise DurationError("empty duration: expected a Go duration such as 30s, 5m or 1h30m")
        return 0
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    total = 0.0
    pos = 0
    while pos < len(s):
        match = _TOKEN.match(s, pos)
        if match is None:
            raise DurationError(
                f"invalid duration {_shown(text)}: expected a Go duration such as 30s, 5m or 1h30m "
                "(units: ms, s, m, h)"
            )
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        pos = match.end()
        if not total <= MAX_MS:  # also catches inf and nan
            raise DurationError(
                f"invalid duration {_shown(text)}: longer than Go's maximum of {format(MAX_MS)}"
            )
    return sign * round(total)


def format(ms: int) -> str:
    """Go's `time.Duration.String` for a whole number of milliseconds."""
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    if ms < 1_000:
        return f"{sign}{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1_000)
    sec = f"{seconds}.{millis:03d}".rstrip("0").rstrip(".") if millis else str(seconds)
    if hours:
        return f"{sign}{hours}h{minutes}m{sec}s"
    if minutes:
        return f"{sign}{minutes}m{sec}s"
    return f"{sign}{sec}s"


def rfc3339(epoch_ms: int) -> str:
    """A `metav1.Time` string: RFC 3339, whole seconds, UTC, ``Z``."""
    moment = _dt.datetime.fromtimestamp(epoch_ms // 1000, tz=_dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nano(epoch_ms: int) -> str:
    """The `time.Now().Format(time.RFC3339Nano)` shape the flux CLI writes into requestedAt."""
    moment = _dt.datetime.fromtimestamp(epoch_ms / 1000, tz=_dt.UTC)
    frac = f".{epoch_ms % 1000:03d}".rstrip("0").rstrip(".")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def parse_rfc3339(text: str) -> int:
    """Epoch milliseconds of an RFC 3339 timestamp (``2024-01-01T00:00:00Z``)."""
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DurationError(
            f"invalid timestamp {text!r}: expected RFC 3339 such as 2024-01-01T00:00:00Z"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return round(moment.timestamp() * 1000)


def clock(ms: int) -> str:
    """A virtual instant as timelines show it: `00:10:00.000` (hours grow past 99)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1_000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
