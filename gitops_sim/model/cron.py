"""Cron schedules as the CronJob controller reads them: the standard five fields, the `@hourly`
family, `@every <duration>` and a `TZ=`/`CRON_TZ=` prefix, each answering "the next time after t".

Provenance: behaviour of robfig/cron v3 (`parser.go` `ParseStandard`, `spec.go` `SpecSchedule.Next`,
`constantdelay.go`), which kube-controller-manager's cronjob controller v2 uses; our own code,
error messages worded as robfig's. What that means:
- fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC) and day of
  week (0-6 or SUN-SAT); each is `*` or `?`, a value, a range `a-b`, a step `*/n`, `a/n` (a to the
  maximum) or `a-b/n`, or a comma list of those;
- when neither day field is a plain `*` or `?`, a day matches if either matches (cron's OR);
  otherwise both must (a `*/n` does not count as a star, as in robfig);
- `Next` is strictly after its argument, in whole minutes, walking the calendar of the schedule's
  time zone (UTC by default, as a kube-controller-manager in a container); it gives up five years
  ahead (robfig's limit) and answers None;
- `@every <duration>` is robfig's constant delay: at least a second, whole seconds, counted from
  the whole second at or before the argument.
Where we knowingly differ: around a daylight-saving change, a wall-clock time that does not exist
or exists twice is resolved by Python's `zoneinfo` (the earlier offset) rather than by Go's
`time.Date` normalisation.

Callers: the CronJob controller (`workloads.cronjobs`). Pure: never reads the real time.
"""

from __future__ import annotations

import datetime as _dt
import zoneinfo
from dataclasses import dataclass

from gitops_sim.model import duration

_UTC = _dt.UTC
_STAR = 1 << 63
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_YEARS_AHEAD = 5


class CronError(ValueError):
    """A schedule robfig/cron's standard parser refuses; the message is robfig's."""


@dataclass(frozen=True, slots=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


_FIELDS = (
    _Bounds(0, 59),
    _Bounds(0, 23),
    _Bounds(1, 31),
    _Bounds(1, 12, _MONTHS),
    _Bounds(0, 6, _DAYS),
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: bit sets per field, or a constant delay (`@every`)."""

    zone: _dt.tzinfo
    minute: int = 0
    hour: int = 0
    dom: int = 0
    month: int = 0
    dow: int = 0
    every_ms: int = 0

    def next(self, after_ms: int) -> int | None:
        """The first activation strictly after `after_ms` (Unix ms), or None within five years."""
        if self.every_ms:
            return after_ms - after_ms % 1_000 + self.every_ms
        start = _dt.datetime.fromtimestamp(after_ms // 60_000 * 60, tz=_UTC) + _dt.timedelta(minutes=1)
        local = start.astimezone(self.zone)
        limit = local.year + _YEARS_AHEAD
        moment = start
        while True:
            local = moment.astimezone(self.zone)
            if local.year > limit:
                return None
            if not self.month >> local.month & 1:
                year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
                moment = _dt.datetime(year, month, 1, tzinfo=self.zone).astimezone(_UTC)
            elif not self._day_matches(local):
                day = _dt.datetime(local.year, local.month, local.day, tzinfo=self.zone)
                moment = (day + _dt.timedelta(days=1)).astimezone(_UTC)
            elif not self.hour >> local.hour & 1:
                moment = local.replace(minute=0).astimezone(_UTC) + _dt.timedelta(hours=1)
            elif not self.minute >> local.minute & 1:
                moment = moment + _dt.timedelta(minutes=1)
            else:
                return int(moment.timestamp()) * 1000

    def _day_matches(self, local: _dt.datetime) -> bool:
        dom = bool(self.dom >> local.day & 1)
        dow = bool(self.dow >> ((local.weekday() + 1) % 7) & 1)
        if self.dom & _STAR or self.dow & _STAR:
            return dom and dow
        return dom or dow


def zone(name: str) -> _dt.tzinfo:
    """The time zone called `name` (Go's `time.LoadLocation`: "" and "UTC" are UTC); CronError
    worded as Go's ("unknown time zone X") when there is none."""
    if name in ("", "UTC"):
        return _UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise CronError(f"unknown time zone {name}") from exc


def parse(spec: str) -> Schedule:
    """A schedule as robfig/cron's `ParseStandard` reads it; CronError when it cannot."""
    text = spec.strip()
    if not text:
        raise CronError("empty spec string")
    where: _dt.tzinfo = _UTC
    if text.startswith(("TZ=", "CRON_TZ=")):
        head, _, rest = text.partition(" ")
        name = head.partition("=")[2]
        try:
            where = zone(name)
        except CronError as exc:
            raise CronError(f"provided bad location {name}: {exc}") from exc
        text = rest.strip()
    if text.startswith("@"):
        if text.startswith("@every "):
            try:
                delay = duration.parse(text[len("@every ") :])
            except duration.DurationError as exc:
                raise CronError(f"failed to parse duration {text}: {exc}") from exc
            return Schedule(where, every_ms=max(1_000, delay - delay % 1_000))
        expanded = _DESCRIPTORS.get(text.lower())
        if expanded is None:
            raise CronError(f"unrecognized descriptor: {text}")
        text = expanded
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise CronError(f"expected exactly {len(_FIELDS)} fields, found {len(fields)}: [{' '.join(fields)}]")
    bits = [_field(value, bounds) for value, bounds in zip(fields, _FIELDS, strict=True)]
    return Schedule(where, *bits)


def _field(text: str, bounds: _Bounds) -> int:
    out = 0
    for part in text.split(","):
        out |= _range(part, bounds)
    return out


def _range(expr: str, bounds: _Bounds) -> int:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    single = len(low_high) == 1
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = bounds.low, bounds.high, _STAR
    else:
        start = _value(low_high[0], bounds)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _value(low_high[1], bounds)
        else:
            raise CronError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if single:
            end = bounds.high
        if step > 1:
            extra = 0
    elif len(range_and_step) > 2:
        raise CronError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise CronError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise CronError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    out = extra
    for value in range(start, end + 1, step):
        out |= 1 << value
    return out


def _value(text: str, bounds: _Bounds) -> int:
    if bounds.names is not None and text.lower() in bounds.names:
        return bounds.names[text.lower()]
    return _int(text)


def _int(text: str) -> int:
    if not text.isdigit():
        raise CronError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)
