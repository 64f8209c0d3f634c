"""Change sets: what one apply or prune did to each object (fluxcd/pkg `ssa/changeset.go`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gitops_sim.model import refs


class Action(StrEnum):
    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Entry:
    ref: refs.ObjectRef
    version: str
    action: Action

    @property
    def subject(self) -> str:
        return str(self.ref)

    def __str__(self) -> str:
        return f"{self.subject} {self.action}"


@dataclass(slots=True)
class ChangeSet:
    entries: list[Entry] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def extend(self, other: ChangeSet) -> None:
        self.entries.extend(other.entries)

    def changes(self) -> list[Entry]:
        """Entries that changed something: what Flux puts in its change-set event."""
        return [e for e in self.entries if e.action not in (Action.UNCHANGED, Action.SKIPPED)]

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.entries)
