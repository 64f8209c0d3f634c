"""Typed references to Kubernetes objects and kinds.

Everything above the model layer names objects with these frozen values, never with loose
strings: the store keys its objects by `ObjectRef`, the scenario language parses
``Kind/namespace/name`` into one, and the timeline prints them back the way Flux prints them
(``Deployment/apps/podinfo``; ``Namespace/apps`` for cluster-scoped objects).

This module must never import anything from gitops_sim.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class GroupKind:
    group: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


@dataclass(frozen=True, slots=True, order=True)
class GVK:
    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_kind(self) -> GroupKind:
        return GroupKind(self.group, self.kind)

    @classmethod
    def of(cls, api_version: str, kind: str) -> GVK:
        group, _, version = api_version.rpartition("/")
        return cls(group, version, kind)


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef:
    """One object: its group and kind (version-free, as the store keys it), namespace and name.

    `namespace` is the empty string for cluster-scoped objects.
    """

    group: str
    kind: str
    namespace: str
    name: str

    @property
    def group_kind(self) -> GroupKind:
        return GroupKind(self.group, self.kind)

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    @property
    def inventory_id(self) -> str:
        """The id Flux writes into `status.inventory.entries[].id` (cli-utils ObjMetadata)."""
        return f"{self.namespace}_{self.name.replace(':', '__')}_{self.group}_{self.kind}"
