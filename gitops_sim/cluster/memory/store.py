"""MemoryCluster: the in-memory Kubernetes API behind the `Cluster` protocol.

Called by the engine, controllers (through the protocol), the scenario runner and the HTTP front
(`cluster.http.server`, which serves it to kubectl and `KubeCluster`). It behaves as the
kube-apiserver does where clients can tell:
- one global, monotonic resourceVersion; uid and creationTimestamp from the seeded RNG and the
  clock; `metadata.generation` bumped only when something outside metadata (and outside status,
  for kinds with a status subresource) changes, and by the first delete of an object that must
  wait; a write that changes nothing bumps nothing and sends no watch event;
- optimistic concurrency (409 Conflict with the real message), AlreadyExists, NotFound, Invalid
  with field causes, BadRequest, Forbidden, 410 Expired, 415, all as `Status` objects;
- validation against the kinds' OpenAPI schemas before every write (`cluster.validation`):
  CRD pruning and defaults, CRDs' CEL rules (`x-kubernetes-validations`, with ratcheting),
  `fieldValidation` Strict/Warn/Ignore; etcd's 1.5 MiB object limit;
- JSON patch, JSON merge patch, strategic merge patch (built-ins), server-side apply with
  structured-merge-diff semantics (list-maps, sets, atomic lists; conflicts; force; removal of
  dropped fields; Update managers; the ten-manager cap); the status subresource;
- finalizers and deletionTimestamp, ownerReference garbage collection (Background, Foreground,
  Orphan), namespace lifecycle (Terminating until empty, 403 for new content), CRDs that serve
  their kind once created (NamesAccepted, Established) and take their objects when deleted;
- every `served: true` version of a CRD (conversion None): an object is stored once, in the
  storage version, written through any served version (checked against that version's schema)
  and answered in it; `status.storedVersions` gains each new storage version, and a CRD update
  that drops a version still listed there is refused (422, the real message);
- plain JSON only: `str`/`int` subclasses (the controllers' `StrEnum` reasons) are stored as
  `str` and `int` (`validation.plain_copy` and the schema walk), so no enum is ever kept;
- label and field selectors, LIST pages, watches from a resourceVersion with ordered replay,
  410 beyond the history, watch-list with its closing bookmark; `dry_run` on every write;
- hostile bodies (`cluster.memory.bodies`): values of the wrong JSON type fail as Go's decoder
  fails (400 on create, update and apply; 422 about `patch` on a patch); objects nesting deeper
  than `yamlsafe.MAX_DEPTH` are refused before any recursive walk; a patch may not rename, move,
  re-kind or re-uid its object (the patch handler's checkName and namespace checks, 400; uid,
  kind and apiVersion 422); Secrets' `stringData` is folded into `data` and never stored, `data`
  must be base64; ConfigMap and Secret data over 1 MiB and annotations over 256 KiB are 422.
  A refused write changes nothing: every check runs before the store is touched.

Fidelity and known gaps:
- Built-ins are validated by their OpenAPI schema (types, required, enums), not by each
  registry's Go validation, and no CEL rule is evaluated on them. CRDs' CEL rules run on the
  project's expression engine, not cel-go (`cluster.validation` lists what that leaves out).
- Built-in objects are defaulted (`cluster.defaults`) on every write before they are compared;
  Services get a clusterIP and node ports as the service registry allocates them. Of the
  admission plugins, only DefaultStorageClass runs (`cluster.admission`).
- A `continue` token resumes from the current state, not from the list's snapshot.
- Garbage collection and namespace clean-up run inside the delete call rather than in
  asynchronous controllers, so they finish at the same virtual instant.
- Orphan propagation drops owner references at once (the real server uses an `orphan` finalizer).
- Decoding errors of custom resources and of server-side apply bodies are worded as for a
  built-in create (the real server decodes those into unstructured maps first).
- Reads name no version: `get`, `list` and watches answer in the storage version (`KindInfo.present`
  gives an object as read through another served version); objects are not pruned or
  defaulted again by the schema of the version read, as the real server does on read. A patch,
  naming no version, is checked against the storage version's schema. When a CRD's storage
  version changes, stored objects are restamped with it at once (see `_serve_crd`).

It must never read the real time, never hand out a reference to what it stores from `get`, `list`
or a write (only `read`, `read_list`, the `snapshot` reads and watch events share it, with readers
that never change it), and never let a watcher observe an event out of commit order.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import json
import random
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

from gitops_sim.cluster import (
    admission,
    backend,
    defaults,
    errors,
    immutable,
    kinds,
    schema,
    selectors,
    validation,
)
from gitops_sim.cluster.memory import bodies, fields, jsonpatch, strategic
from gitops_sim.cluster.memory import watch as watches
from gitops_sim.model import duration, objects, refs, yamlsafe
from gitops_sim.timing import clock as clocks

DEFAULT_HISTORY = 10_000
NAMESPACE = refs.GroupKind("", "Namespace")
SECRET = refs.GroupKind("", "Secret")
FOREGROUND = "foregroundDeletion"
MAX_UPDATE_MANAGERS = 10
# System fields a client may send on create and the server wipes (rest.FillObjectMetaSystemFields).
_WIPED_ON_CREATE = frozenset(
    {
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "generation",
        "managedFields",
        "selfLink",
        "deletionGracePeriodSeconds",
    }
)
ANCIENT = "ancient-changes"
# ObjectMeta fields whose Go JSON tags are `omitempty` (apimachinery meta/v1 types.go): a client
# that sends one empty (`annotations: {}` from kubectl's client-side apply and diff, `generateName:
# ""` from protobuf) gets it back absent, as the server decodes into ObjectMeta and encodes again.
_OMITTED_WHEN_EMPTY = frozenset(
    {
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    }
)
# (fieldValidation, where warnings go, whether the object still shares containers with the caller's)
_Check = tuple["backend.FieldValidation", "builtins.list[str] | None", bool]
# etcd's default request limit (--max-request-bytes): larger objects cannot be stored.
MAX_OBJECT_BYTES = 1_572_864

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# The NamespaceLifecycle admission plugin's namespaces that may not be deleted.
IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


@dataclass(slots=True)
class Owner:
    """One `managedFields` entry: a manager, its operation and the fields it owns."""

    manager: str
    operation: str  # "Apply" | "Update"
    api_version: str
    time: str
    fields: fields.FieldSet
    subresource: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.manager, self.operation, self.subresource)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields.to_fields_v1(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def describe(self) -> str:
        """How a conflict names this manager (apimachinery BuildManagerIdentifier, sans time)."""
        name = f'"{self.manager}"'
        if self.subresource:
            name += f' with subresource "{self.subresource}"'
        return name if self.operation == "Apply" else f"{name} using {self.api_version}"


@dataclass(slots=True)
class _Entry:
    obj: objects.RawObject
    owners: builtins.list[Owner] = field(default_factory=list)
    checked: schema.Node | None = None
    """The schema `obj` was last validated against (kept through the server's own edits since):
    an update checked against the same one need not walk what it leaves unchanged again."""


@dataclass(slots=True)
class _Order:
    """One kind's objects in LIST order (namespace, then name): a LIST takes a namespace's or a
    continue token's span by bisection instead of sorting the kind. Kept by `_put` and `_remove`."""

    keys: builtins.list[tuple[str, str]] = field(default_factory=list)
    members: builtins.list[refs.ObjectRef] = field(default_factory=list)

    def add(self, ref: refs.ObjectRef) -> None:
        key = (ref.namespace, ref.name)
        at = bisect.bisect_left(self.keys, key)
        if at == len(self.keys) or self.keys[at] != key:
            self.keys.insert(at, key)
            self.members.insert(at, ref)

    def discard(self, ref: refs.ObjectRef) -> None:
        key = (ref.namespace, ref.name)
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            del self.keys[at]
            del self.members[at]

    def span(self, namespace: str | None, after: tuple[str, str] | None) -> tuple[int, int]:
        """The positions [lo, hi) of the objects in `namespace` (any: None) after `after`."""
        lo, hi = 0, len(self.keys)
        if namespace is not None:
            lo = bisect.bisect_left(self.keys, (namespace,))
            hi = bisect.bisect_left(self.keys, (namespace + "\0",), lo)
        if after is not None:
            lo = max(lo, bisect.bisect_right(self.keys, after))
        return lo, max(lo, hi)


def _parse_owners(managed: builtins.list[dict[str, Any]]) -> builtins.list[Owner]:
    out = []
    for entry in managed:
        if not entry.get("manager"):
            continue  # `[{}]` resets ownership, as the real server reads it
        out.append(
            Owner(
                manager=str(entry["manager"]),
                operation=str(entry.get("operation", "Update")),
                api_version=str(entry.get("apiVersion", "")),
                time=str(entry.get("time", "")),
                fields=fields.from_fields_v1(entry.get("fieldsV1") or {}),
                subresource=str(entry.get("subresource", "")),
            )
        )
    return out


def _content(obj: objects.RawObject, *, status: bool) -> dict[str, Any]:
    """What generation tracks: everything but metadata (and status, when it is a subresource)."""
    skip = {"metadata", "apiVersion", "kind"} | (set() if status else {"status"})
    return {k: v for k, v in obj.items() if k not in skip}


@dataclass(frozen=True, slots=True)
class SavedState:
    """What `MemoryCluster.save` keeps: every object and index, the revision and the uid RNG."""

    objects: dict[refs.ObjectRef, _Entry]
    by_label: dict[tuple[refs.GroupKind, str, str], set[refs.ObjectRef]]
    dependents: dict[str, set[refs.ObjectRef]]
    rv: int
    kinds: kinds.KindRegistry
    schemas: dict[refs.GVK, schema.Node | None]
    rng: object


PodLogs = Callable[[objects.RawObject, str], list[tuple[int, str]] | None]
"""A Pod's container's log lines (Unix ms written, text), or None when it wrote none."""


class MemoryCluster:
    """The in-memory API store. See the module docstring for what it models and what it does not."""

    def __init__(self, clock: clocks.Clock, rng: random.Random, *, history: int = DEFAULT_HISTORY) -> None:
        """`history`: how many changes watches can resume from (etcd's compaction window, in events)."""
        self._clock = clock
        self._rng = rng
        self._kinds = kinds.KindRegistry()
        self._objects: dict[refs.ObjectRef, _Entry] = {}
        self._by_kind: dict[refs.GroupKind, dict[refs.ObjectRef, _Entry]] = {}
        self._order: dict[refs.GroupKind, _Order] = {}
        self._ip_of: dict[refs.ObjectRef, str] = {}
        self._cluster_ips: dict[str, int] = {}
        """The Services' cluster IPs, each with how many Services hold it: what an allocation avoids."""
        self._by_uid: dict[str, refs.ObjectRef] = {}
        self._by_label: dict[tuple[refs.GroupKind, str, str], set[refs.ObjectRef]] = {}
        """Objects by kind and label (key, value): what a LIST with an equality selector reads."""
        self._dependents: dict[str, set[refs.ObjectRef]] = {}  # owner uid -> objects that reference it
        self._stamp = (-1, "")
        self._rv = 0
        self._hub = watches.Hub(history, self._api_version)
        self._schemas: dict[refs.GVK, schema.Node | None] = {}
        self.pod_logs: PodLogs | None = None
        """What a Pod's containers wrote (the kubelet's part, given by the simulation); None: no
        node runs containers, and a Pod has no logs."""

    # -- saved states ------------------------------------------------------------------------

    def save(self) -> SavedState:
        """This store's content, to `load` into other stores. Stored objects are never changed
        in place; the entries and indexes holding them are copied."""
        return SavedState(
            {ref: _Entry(e.obj, list(e.owners), e.checked) for ref, e in self._objects.items()},
            {key: set(refs_) for key, refs_ in self._by_label.items()},
            {uid: set(refs_) for uid, refs_ in self._dependents.items()},
            self._rv,
            self._kinds.copy(),
            dict(self._schemas),
            self._rng.getstate(),
        )

    def load(self, state: SavedState) -> None:
        """Become the store `state` was saved from, with no watch history (resuming a watch from
        an earlier revision gets 410 Gone, as after a compaction). Watches stay subscribed and
        hear nothing: the content was there before they came. `state` can be loaded again."""
        self._objects = {ref: _Entry(e.obj, list(e.owners), e.checked) for ref, e in state.objects.items()}
        self._by_kind = {}
        self._by_uid = {}
        for ref, entry in self._objects.items():
            self._by_kind.setdefault(ref.group_kind, {})[ref] = entry
            self._by_uid[str(entry.obj["metadata"]["uid"])] = ref
        self._order = {}
        for gk, of_kind in self._by_kind.items():
            members = sorted(of_kind, key=lambda r: (r.namespace, r.name))
            self._order[gk] = _Order([(r.namespace, r.name) for r in members], members)
        self._ip_of = {}
        self._cluster_ips = {}
        for ref, entry in self._by_kind.get(defaults.SERVICE, {}).items():
            self._index_cluster_ip(ref, entry.obj)
        self._by_label = {key: set(refs_) for key, refs_ in state.by_label.items()}
        self._dependents = {uid: set(refs_) for uid, refs_ in state.dependents.items()}
        self._rv = state.rv
        self._kinds = state.kinds.copy()
        self._schemas = dict(state.schemas)
        self._rng.setstate(state.rng)  # type: ignore[arg-type]
        self._hub.restart_at(state.rv)

    # -- kinds -------------------------------------------------------------------------------

    @property
    def in_process(self) -> bool:
        """Always: events are delivered inside the write, and no controllers run here."""
        return True

    def kind_info(self, gvk: refs.GVK) -> kinds.KindInfo:
        return self._kinds.resolve(gvk)

    def find_kind(self, gk: refs.GroupKind) -> kinds.KindInfo | None:
        return self._kinds.get(gk)

    def kinds_named(self, kind: str) -> builtins.list[kinds.KindInfo]:
        return self._kinds.by_kind(kind)

    def served_kinds(self) -> tuple[kinds.KindInfo, ...]:
        """Every kind the store serves now, built-ins and those of Established CRDs: the same tuple
        until they change."""
        return self._kinds.all()

    @property
    def resource_version(self) -> int:
        return self._rv

    # -- reads -------------------------------------------------------------------------------

    def get(self, ref: refs.ObjectRef) -> objects.RawObject:
        entry = self._objects.get(ref)
        if entry is None:
            info = self._kinds.get(ref.group_kind)
            raise errors.not_found(ref, info.plural if info else ref.kind.lower())
        return objects.deep_copy(entry.obj)

    def read(self, ref: refs.ObjectRef) -> objects.RawObject:
        entry = self._objects.get(ref)
        if entry is None:
            info = self._kinds.get(ref.group_kind)
            raise errors.not_found(ref, info.plural if info else ref.kind.lower())
        return entry.obj

    def list(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
    ) -> builtins.list[objects.RawObject]:
        return self.list_page(gk, namespace=namespace, labels=labels, fields=fields).items

    def read_list(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
    ) -> builtins.list[objects.RawObject]:
        """`list` without the copies: the stored objects themselves, for the engine's readers that
        only look (see `backend.Cluster.read_list`). Stored objects are never changed in place, so
        the items stay what they were when listed; a caller must never change them."""
        return self.snapshot_page(gk, namespace=namespace, labels=labels, fields=fields).items

    def list_page(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> backend.ListPage:
        """A LIST as the API serves it: selectors, `limit` and `continue` (ordered by namespace/name)."""
        page = self.snapshot_page(
            gk, namespace=namespace, labels=labels, fields=fields, limit=limit, continue_token=continue_token
        )
        return backend.ListPage(
            [objects.deep_copy(o) for o in page.items],
            page.resource_version,
            page.continue_token,
            page.remaining_item_count,
        )

    def pod_log(
        self,
        ref: refs.ObjectRef,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
    ) -> str:
        """`pods/{name}/log`: the container is checked as the apiserver checks it (a name is
        needed when the Pod has several, and it must be one of them), then the lines `pod_logs`
        gives, the last `tail_lines` of those written in the last `since_seconds`. A Pod with no
        logs gets a 400 saying that no node runs its containers."""
        pod = self.snapshot(ref)
        spec = pod.get("spec") or {}
        names = [str(c.get("name", "")) for c in spec.get("containers") or [] if isinstance(c, dict)]
        names += [str(c.get("name", "")) for c in spec.get("initContainers") or [] if isinstance(c, dict)]
        if not container:
            if len(names) != 1:
                raise errors.BadRequest(
                    f"a container name must be specified for pod {ref.name}, choose one of: "
                    f"[{' '.join(names)}]"
                )
            container = names[0]
        if container not in names:
            raise errors.BadRequest(f"container {container} is not valid for pod {ref.name}")
        written = self.pod_logs(pod, container) if self.pod_logs is not None else None
        if written is None:
            raise errors.BadRequest(
                f'container "{container}" in pod "{ref.name}" has no logs: gitops-sim simulates the API '
                "server only, no node runs containers"
            )
        if since_seconds is not None:
            oldest = self._clock.epoch_ms + self._clock.now() - since_seconds * 1000
            written = [(at, line) for at, line in written if at >= oldest]
        lines = [line for _, line in written]
        if tail_lines is not None:
            lines = lines[len(lines) - tail_lines :] if tail_lines > 0 else []
        return "".join(line + "\n" for line in lines)

    def snapshot(self, ref: refs.ObjectRef) -> objects.RawObject:
        """`get` without the copy: the store's own snapshot, to serialise and never to change.

        Stored objects are never changed in place, so a snapshot stays valid (and safe to read
        without the lock) after later writes. The HTTP front uses it to skip a copy per object.
        """
        entry = self._objects.get(ref)
        if entry is None:
            return self.get(ref)  # raises the NotFound
        return entry.obj

    def snapshot_page(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> backend.ListPage:
        """`list_page` without the copies (see `snapshot`)."""
        # Every candidate is of kind `gk` and in `namespace` already: the filter need not check
        # those per object.
        filt = replace(self._filter(gk, namespace, labels, fields), kind=None, namespace=None)
        start = _decode_continue(continue_token) if continue_token else None
        of_kind = self._by_kind.get(gk, {})
        order = self._order.get(gk) or _Order()
        lo, hi = order.span(namespace, start)
        labelled: Collection[refs.ObjectRef] | None = None
        for req in filt.labels:  # an equality requirement narrows the candidates to its index
            if req.op == "=":
                found = self._by_label.get((gk, req.key, req.values[0]), set())
                if len(found) < (hi - lo if labelled is None else len(labelled)):
                    labelled = found
        keys: builtins.list[refs.ObjectRef]
        if labelled is None:
            keys = order.members[lo:hi]
        else:  # fewer than the span: sorted by (namespace, name), the refs' order, tuples compared in C
            keys = [
                r
                for r in sorted(labelled, key=lambda r: (r.namespace, r.name))
                if (namespace is None or r.namespace == namespace)
                and (start is None or (r.namespace, r.name) > start)
            ]
        if not limit and not filt.labels and not filt.fields:  # every candidate matches
            return backend.ListPage([of_kind[r].obj for r in keys], str(self._rv), "", None)
        items: builtins.list[objects.RawObject] = []
        for i, ref in enumerate(keys):
            obj = of_kind[ref].obj
            if not filt.matches(ref, obj):
                continue
            if limit and len(items) == limit:
                remaining = sum(1 for r in keys[i:] if filt.matches(r, of_kind[r].obj))
                last = objects.ref_of(items[-1])
                token = _encode_continue(self._rv, last.namespace, last.name)
                return backend.ListPage(items, str(self._rv), token, remaining)
            items.append(obj)
        return backend.ListPage(items, str(self._rv), "", None)

    def watch(
        self,
        callback: backend.WatchCallback,
        *,
        kind: refs.GroupKind | None = None,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
        resource_version: str | None = None,
        send_initial_events: bool = False,
        bookmarks: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> watches.Subscription:
        filt = (
            self._filter(kind, namespace, labels, fields)
            if kind is not None
            else watches.Filter(namespace=namespace, labels=_labels(labels))
        )

        def current() -> builtins.list[tuple[refs.ObjectRef, objects.RawObject]]:
            source = self._by_kind.get(kind, {}) if kind is not None else self._objects
            return [(ref, source[ref].obj) for ref in sorted(source)]

        return self._hub.subscribe(
            callback,
            filt,
            resource_version=resource_version,
            current=current,
            send_initial_events=send_initial_events,
            bookmarks=bookmarks,
        )

    def compact(self) -> None:
        """Drop the watch history, as etcd compaction does: older resourceVersions now get 410 Gone."""
        self._hub.compact()

    def _filter(
        self,
        gk: refs.GroupKind,
        namespace: str | None,
        labels: str | dict[str, str] | None,
        fields: str | None,
    ) -> watches.Filter:
        info = self._kinds.get(gk)
        getters = selectors.getters_for(gk.group, gk.kind, info.selectable_fields if info else ())
        field_selector = selectors.parse_fields(fields, getters) if fields else ()
        return watches.Filter(gk, namespace, _labels(labels), field_selector, getters)

    def _schema(self, info: kinds.KindInfo) -> schema.Node | None:
        key = info.gvk  # a CRD's versions each have their schema
        if key not in self._schemas:
            self._schemas[key] = (
                schema.from_openapi(info.openapi) if info.openapi else schema.builtin(info.gvk)
            )
        return self._schemas[key]

    def _api_version(self, gk: refs.GroupKind) -> str:
        info = self._kinds.get(gk)
        return info.gvk.api_version if info else ""

    # -- writes ------------------------------------------------------------------------------

    def create(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        info, ref = self._identify(obj)
        if ref in self._objects:
            raise errors.AlreadyExists(
                f'{errors.qualified_resource(info.plural, ref.group)} "{ref.name}" already exists',
                details={"name": ref.name, "group": ref.group, "kind": info.plural},
            )
        if (obj.get("metadata") or {}).get("resourceVersion"):
            raise errors.BadRequest("resourceVersion should not be set on objects to be created")
        new = self._prepare_new(obj, info, shallow=True)
        # Validate first: the walk copies the caller's object and collects what the creator owns.
        new, size, owned, node = self._validate(
            ref, new, field_validation, warnings, True, created=True, info=info
        )
        if owned is None:
            owned = fields.field_set(
                new, self._schema(info), include_status=not info.status_subresource, created=True
            )
        owner = Owner(field_manager, "Update", info.gvk.api_version, self._now(), owned)
        entry = _Entry(new, [owner] if owner.fields else [], node)
        return info.present(self._commit(ref, None, entry, dry_run=dry_run, size=size, shared=shared))

    def update(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        info, ref = self._identify(obj)
        old = self._existing(ref, info)
        sent_rv = (obj.get("metadata") or {}).get("resourceVersion")
        if sent_rv and sent_rv != old.obj["metadata"]["resourceVersion"]:
            raise errors.conflict_modified(info.plural, ref.group, ref.name)
        _check_uid(info, ref, old.obj, obj)
        new = self._merge_update(old.obj, obj, info, subresource)
        owners = self._owners_after_update(old, new, field_manager, info, subresource)
        return info.present(
            self._commit(
                ref,
                old,
                _Entry(new, owners),
                dry_run=dry_run,
                check=(field_validation, warnings, False),
                info=info,
                shared=shared,
            )
        )

    def json_patch(
        self,
        ref: refs.ObjectRef,
        ops: builtins.list[dict[str, Any]],
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
    ) -> objects.RawObject:
        jsonpatch.decode(ops, field_validation)
        _check_patch_depth(ops, wrapper=2)
        return self._patch(
            ref,
            lambda live: jsonpatch.apply(live, ops, field_validation),
            field_manager,
            subresource,
            dry_run,
            (field_validation, warnings, False),
        )

    def merge_patch(
        self,
        ref: refs.ObjectRef,
        patch: dict[str, Any],
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        if not isinstance(patch, dict):
            if field_validation == "Ignore":
                raise errors.BadRequest("Invalid JSON Patch")
            raise errors.BadRequest(f"error decoding patch: {_not_a_map(patch)}")
        _check_patch_depth(patch)
        return self._patch(
            ref,
            lambda live: _merge(live, patch),
            field_manager,
            subresource,
            dry_run,
            (field_validation, warnings, False),
            shared,
        )

    def strategic_merge_patch(
        self,
        ref: refs.ObjectRef,
        patch: dict[str, Any],
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
    ) -> objects.RawObject:
        info = self._kinds.get(ref.group_kind)
        if info is None:
            raise errors.no_kind_match(refs.GVK(ref.group, "", ref.kind))
        if info.custom:  # as the real server: custom resources have no strategic merge patch
            raise errors.UnsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            )
        if not isinstance(patch, dict):
            raise errors.BadRequest(_not_a_map(patch))
        _check_patch_depth(patch)
        node = self._schema(info)
        return self._patch(
            ref,
            lambda live: strategic.apply(live, patch, node),
            field_manager,
            subresource,
            dry_run,
            (field_validation, warnings, False),
        )

    def _patch(
        self,
        ref: refs.ObjectRef,
        change: Callable[[objects.RawObject], objects.RawObject],
        field_manager: str,
        subresource: backend.Subresource,
        dry_run: bool,
        check: _Check,
        shared: bool = False,
    ) -> objects.RawObject:
        """A non-apply PATCH: the patched object is an update, with a precondition on any RV it sets."""
        info = self._kinds.get(ref.group_kind)
        if info is None:
            raise errors.no_kind_match(refs.GVK(ref.group, "", ref.kind))
        old = self._existing(ref, info)
        patched = change(old.obj)
        _check_patched(info, ref, old.obj, patched)
        sent_rv = patched["metadata"].get("resourceVersion")
        if sent_rv and sent_rv != old.obj["metadata"]["resourceVersion"]:
            raise errors.conflict_modified(info.plural, ref.group, ref.name)
        managed = patched["metadata"].get("managedFields")
        new = self._merge_update(old.obj, patched, info, subresource)
        if managed != old.obj["metadata"].get("managedFields") and _decodable_owners(managed or []):
            owners = _parse_owners(managed or [])
        else:
            owners = self._owners_after_update(old, new, field_manager, info, subresource)
        return self._commit(ref, old, _Entry(new, owners), dry_run=dry_run, check=check, shared=shared)

    def apply(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        info, ref = self._identify(obj)
        if "managedFields" in (obj.get("metadata") or {}):
            raise errors.BadRequest(
                "metadata.managedFields must be nil: when using the apply operation you cannot have "
                "managedFields in the object that is being applied"
            )
        config = validation.plain_object(obj)  # plain JSON types: no enums stored
        if info.status_subresource:
            config.pop("status", None)
        node = self._schema(info)
        applied = fields.field_set(config, node, include_status=not info.status_subresource)
        old = self._objects.get(ref)
        me = Owner(field_manager, "Apply", info.gvk.api_version, self._now(), applied)
        if old is None:
            new = self._prepare_new(config, info)
            return info.present(
                self._commit(
                    ref,
                    None,
                    _Entry(new, [me] if applied else []),
                    dry_run=dry_run,
                    check=(field_validation, warnings, False),
                    info=info,
                    shared=shared,
                )
            )

        new = objects.deep_copy(old.obj)
        others = [o for o in old.owners if o.key != me.key]
        previous = next((o.fields for o in old.owners if o.key == me.key), frozenset())
        self._check_conflicts(config, applied, old.obj, others, force)
        still_owned = frozenset().union(*(o.fields for o in others)) if others else frozenset()
        for path in sorted(previous - applied - still_owned):
            fields.remove(new, path)
        fields.merge(new, {k: v for k, v in config.items() if k not in ("apiVersion", "kind")}, node)
        new["metadata"] = {**new["metadata"], **self._system_meta(old.obj)}
        _drop_empty_meta(new["metadata"])
        if force:
            others = [
                _replace_fields(o, o.fields - {p for p in applied if fields.differs(config, old.obj, p)})
                for o in others
            ]
        owners = [o for o in others if o.fields]
        at = next((i for i, o in enumerate(old.owners) if o.key == me.key), len(owners))
        owners.insert(min(at, len(owners)), me)
        self._bump_generation(old.obj, new, info)
        new["apiVersion"] = info.storage_api_version
        return info.present(
            self._commit(
                ref,
                old,
                _Entry(new, owners),
                dry_run=dry_run,
                check=(field_validation, warnings, False),
                info=info,
                shared=shared,
            )
        )

    def delete(
        self, ref: refs.ObjectRef, *, propagation: backend.Propagation = "Background", dry_run: bool = False
    ) -> objects.RawObject | None:
        info = self._kinds.get(ref.group_kind)
        if info is None:
            raise errors.no_kind_match(refs.GVK(ref.group, "", ref.kind))
        old = self._existing(ref, info)
        meta = old.obj["metadata"]
        if ref.group_kind == NAMESPACE:
            return self._delete_namespace(ref, old, dry_run)
        foreground = propagation == "Foreground" and bool(self._dependents.get(meta["uid"]))
        if meta.get("finalizers") or foreground:
            if meta.get("deletionTimestamp"):
                return objects.deep_copy(old.obj)
            new = objects.deep_copy(old.obj)
            if foreground:
                new["metadata"]["finalizers"] = [*(meta.get("finalizers") or []), FOREGROUND]
            _mark_deleting(new, self._now())
            marked = self._commit(ref, old, _Entry(new, old.owners), dry_run=dry_run)
            if foreground and not dry_run:
                self._collect_dependents(meta["uid"], "Foreground")
                self._finish_foreground(meta["uid"])
            return marked
        if not dry_run:
            self._remove(ref, propagation)
        return None

    def _delete_namespace(self, ref: refs.ObjectRef, old: _Entry, dry_run: bool) -> objects.RawObject | None:
        """Namespace lifecycle: Terminating, its content deleted, gone once it is empty. The
        NamespaceLifecycle admission plugin refuses to delete default, kube-system and kube-public."""
        if ref.name in IMMORTAL_NAMESPACES:
            raise errors.Forbidden(
                f'namespaces "{ref.name}" is forbidden: this namespace may not be deleted',
                details={"name": ref.name, "kind": "namespaces"},
            )
        if old.obj["metadata"].get("deletionTimestamp"):
            return objects.deep_copy(old.obj)
        new = objects.deep_copy(old.obj)
        _mark_deleting(new, self._now())
        new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
        marked = self._commit(ref, old, _Entry(new, old.owners), dry_run=dry_run)
        if dry_run:
            return marked
        for child in sorted(r for r in self._objects if r.namespace == ref.name):
            if child in self._objects:
                self.delete(child)
        return self._finish_namespace(ref.name)

    def _finish_namespace(self, name: str) -> objects.RawObject | None:
        ns = refs.ObjectRef("", "Namespace", "", name)
        entry = self._objects.get(ns)
        if entry is None or not entry.obj["metadata"].get("deletionTimestamp"):
            return None
        if any(r.namespace == name for r in self._objects):
            return objects.deep_copy(entry.obj)
        self._remove(ns, "Background")
        return None

    def _finish_foreground(self, uid: str) -> None:
        """Drop an owner's foregroundDeletion finalizer once no dependent is left."""
        ref = self._by_uid.get(uid)
        entry = self._objects.get(ref) if ref else None
        if ref is None or entry is None or self._dependents.get(uid):
            return
        finalizers = entry.obj["metadata"].get("finalizers") or []
        if FOREGROUND in finalizers:
            new = objects.deep_copy(entry.obj)
            new["metadata"]["finalizers"] = [f for f in finalizers if f != FOREGROUND]
            self._commit(ref, entry, _Entry(new, entry.owners), dry_run=False)

    # -- internals ---------------------------------------------------------------------------

    def _now(self) -> str:
        now = self._clock.now()
        if self._stamp[0] != now:
            self._stamp = (now, duration.rfc3339(self._clock.epoch_ms + now))
        return self._stamp[1]

    def _identify(self, obj: objects.RawObject) -> tuple[kinds.KindInfo, refs.ObjectRef]:
        """The kind and ref of a create, update or apply body, refused (400) unless it decodes."""
        if not isinstance(obj, dict):
            raise errors.BadRequest(bodies.decode_problem(obj, "", "") or "the body is not an object")
        info = self._kinds.lookup(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))
        problem = bodies.too_deep(obj) or bodies.decode_problem(obj, info.gvk.group, info.gvk.kind)
        if problem:
            kind = info.gvk.kind
            raise errors.BadRequest(
                f'{kind} in version "{info.gvk.version}" cannot be handled as a {kind}: {problem}'
            )
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        if not name:
            raise errors.Invalid(
                f'{info.gvk.kind} "" is invalid: metadata.name: Required value: name or '
                "generateName is required"
            )
        if not _DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
            raise errors.Invalid(
                f'{info.gvk.kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": a lowercase '
                "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
                "start and end with an alphanumeric character"
            )
        namespace = str(meta.get("namespace") or "")
        if info.namespaced and not namespace:
            raise errors.BadRequest(
                f"the namespace of the provided object does not match the namespace "
                f"sent on the request: {info.gvk.kind} {name!r} has no namespace"
            )
        if not info.namespaced:
            namespace = ""
        return info, refs.ObjectRef(info.gvk.group, info.gvk.kind, namespace, name)

    def _existing(self, ref: refs.ObjectRef, info: kinds.KindInfo) -> _Entry:
        entry = self._objects.get(ref)
        if entry is None:
            raise errors.not_found(ref, info.plural)
        return entry

    def _system_meta(self, obj: objects.RawObject) -> dict[str, Any]:
        keep = (
            "uid",
            "creationTimestamp",
            "generation",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        )
        return {k: obj["metadata"][k] for k in keep if k in obj["metadata"]}

    def _prepare_new(
        self, obj: objects.RawObject, info: kinds.KindInfo, *, shallow: bool = False
    ) -> objects.RawObject:
        """The object to store for a create. `shallow` leaves nested containers shared with `obj`:
        the caller must then have validation copy them (see `_Check`)."""
        ref_ns = (obj.get("metadata") or {}).get("namespace") or ""
        if info.namespaced:
            namespace = self._by_kind.get(NAMESPACE, {}).get(refs.ObjectRef("", "Namespace", "", ref_ns))
            if namespace is None:
                raise errors.NotFound(
                    f'namespaces "{ref_ns}" not found', details={"name": ref_ns, "kind": "namespaces"}
                )
            if namespace.obj["metadata"].get("deletionTimestamp"):
                message = f"unable to create new content in namespace {ref_ns} because it is being terminated"
                raise errors.Forbidden(
                    f'{info.plural} "{obj["metadata"]["name"]}" is forbidden: {message}',
                    details={
                        "name": obj["metadata"]["name"],
                        "kind": info.plural,
                        "causes": [
                            {
                                "reason": "NamespaceTerminating",
                                "message": message,
                                "field": "metadata.namespace",
                            }
                        ],
                    },
                )
        new = dict(obj) if shallow else objects.deep_copy(obj)
        new["apiVersion"] = info.storage_api_version  # stored once, in the storage version
        meta = new["metadata"] = {
            k: v for k, v in (new.get("metadata") or {}).items() if k not in _WIPED_ON_CREATE
        }
        if not info.namespaced:
            meta.pop("namespace", None)
        _drop_empty_meta(meta)
        meta["uid"] = _uuid4(self._rng)
        meta["creationTimestamp"] = self._now()
        if info.generation:
            meta["generation"] = 1
        if info.status_subresource:
            new.pop("status", None)
        if info.gvk.kind == "Namespace":
            new["spec"] = new.get("spec") or {"finalizers": ["kubernetes"]}
            new["status"] = {"phase": "Active"}
        elif info.gvk.kind == "Secret" and not info.gvk.group and not new.get("type"):
            new["type"] = "Opaque"  # the Secret registry's default
        return new

    def _merge_update(
        self, old: objects.RawObject, sent: objects.RawObject, info: kinds.KindInfo, subresource: str
    ) -> objects.RawObject:
        if subresource == "status":
            # Only metadata is changed in place later (resourceVersion, managedFields): the rest
            # of the old snapshot, never mutated, is shared rather than copied.
            new = {k: v for k, v in old.items() if k != "status"}
            # The metadata map is new (resourceVersion and managedFields, rendered again from the
            # owners, are set in it on commit); its values are the old ones, never changed either.
            new["metadata"] = {k: v for k, v in old["metadata"].items() if k != "managedFields"}
            if "status" in sent:
                new["status"] = validation.plain_copy(sent["status"])  # plain JSON: no enums stored
            else:
                new.pop("status", None)
            return new
        if info.custom or defaults.for_kind(info.gvk.group_kind) is None:
            # Plain JSON types, no enums stored; what the body keeps of the stored object (a patch
            # leaves most of it, the very same values) is stored already, and stays shared.
            new = {k: v if v is old.get(k) else validation.plain_copy(v) for k, v in sent.items()}
        else:  # a built-in's defaulters change the object in place: nothing stored may be in it
            new = validation.plain_object(sent)
        new["apiVersion"] = info.storage_api_version
        new["metadata"] = {**(new.get("metadata") or {}), **self._system_meta(old)}
        new["metadata"].pop("managedFields", None)
        if not info.namespaced:
            new["metadata"].pop("namespace", None)
        _drop_empty_meta(new["metadata"])
        if info.status_subresource:
            if "status" in old:
                new["status"] = objects.clone(old["status"])
            else:
                new.pop("status", None)
        self._bump_generation(old, new, info)
        return new

    def _bump_generation(self, old: objects.RawObject, new: objects.RawObject, info: kinds.KindInfo) -> None:
        default = None if info.custom else defaults.for_kind(info.gvk.group_kind)
        if default is not None:  # an update is defaulted as decoded, before it is compared
            default(new)
        if not info.generation:
            return
        track_status = not info.status_subresource
        if _content(old, status=track_status) != _content(new, status=track_status):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 0)) + 1

    def _owners_after_update(
        self, old: _Entry, new: objects.RawObject, manager: str, info: kinds.KindInfo, subresource: str
    ) -> builtins.list[Owner]:
        old_view = {k: v for k, v in old.obj.items()}
        old_view["metadata"] = {k: v for k, v in old.obj["metadata"].items() if k != "managedFields"}
        changed = fields.changed_paths(old_view, new, self._schema(info))
        changed = {
            p
            for p in changed
            if not (
                p[0] == "metadata"
                and len(p) > 1
                and p[1]
                in (
                    "resourceVersion",
                    "generation",
                    "managedFields",
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                )
            )
        }
        if not changed:
            return list(old.owners)
        key = (manager, "Update", subresource)
        owners = [_replace_fields(o, o.fields - changed) for o in old.owners]
        present = {p for p in changed if not fields.is_absent(fields.get(new, p))}
        mine = next((o for o in owners if o.key == key), None)
        if mine is None:
            mine = Owner(manager, "Update", info.gvk.api_version, self._now(), frozenset(), subresource)
            owners.append(mine)
        mine.fields = mine.fields | present
        mine.time = self._now()
        return _cap_updates([o for o in owners if o.fields], info.gvk.api_version, self._now())

    def _check_conflicts(
        self,
        config: objects.RawObject,
        applied: fields.FieldSet,
        live: objects.RawObject,
        others: builtins.list[Owner],
        force: bool,
    ) -> None:
        if force:
            return
        conflicts: builtins.list[tuple[Owner, str]] = []
        for owner in sorted(others, key=lambda o: o.describe()):
            for path in sorted(applied & owner.fields):
                if fields.differs(config, live, path):
                    conflicts.append((owner, fields.describe(path)))
        if not conflicts:
            return
        count = f"{len(conflicts)} conflict{'s' if len(conflicts) > 1 else ''}"
        if len(conflicts) == 1:
            body = f"conflict with {conflicts[0][0].describe()}: {conflicts[0][1]}"
        else:  # structured-merge-diff Conflicts.Error: grouped by manager, in manager order
            lines: builtins.list[str] = []
            for manager in sorted({o.describe() for o, _ in conflicts}):
                lines.append(f"conflicts with {manager}:")
                lines.extend(f"- {p}" for o, p in conflicts if o.describe() == manager)
            body = "\n".join(lines)
        message = f"Apply failed with {count}: {body}"
        raise errors.Conflict(
            message,
            details={
                "causes": [
                    {"reason": "FieldManagerConflict", "message": f"conflict with {o.describe()}", "field": p}
                    for o, p in conflicts
                ]
            },
        )

    def _commit(
        self,
        ref: refs.ObjectRef,
        old: _Entry | None,
        new: _Entry,
        *,
        dry_run: bool,
        check: _Check | None = None,
        size: int | None = None,
        info: kinds.KindInfo | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        """Store `new` (unless it changes nothing): validated by `check` (against `info`'s version
        when given), or already, with `size`. Returns the object as stored (or as a dry run would
        store it): a copy, or with `shared` the store's own (see `backend.Cluster`)."""
        out = _as_is if shared else objects.deep_copy
        new.obj["metadata"].pop("managedFields", None)
        if check is not None:
            new.obj, size, _, new.checked = self._validate(
                ref,
                new.obj,
                *check,
                info=info,
                old=old.obj if old else None,
                old_checked=old.checked if old else None,
            )
        elif old is not None and size is None:  # the server's own edit of a stored object
            new.checked = old.checked
        if ref.group_kind == defaults.SERVICE:  # what the service registry allocates
            taken = self._cluster_ips.keys()
            defaults.allocate_service(new.obj, old.obj if old else None, self._rng, taken)
        if old is None and ref.group_kind == admission.PVC:  # after the managed fields, as admission runs
            classes = [e.obj for e in self._by_kind.get(admission.STORAGE_CLASS, {}).values()]
            admission.default_storage_class(new.obj, classes)
        if ref.group_kind == SECRET:
            bodies.normalize_secret(new.obj)
        too_long = bodies.size_problems(ref.group, ref.kind, new.obj)
        if too_long:
            info = self._kinds.get(ref.group_kind)
            if info is not None:
                raise _invalid(info, ref, too_long)
        if old is not None:
            refused = immutable.check_update(ref.group, ref.kind, old.obj, new.obj)
            if ref.group_kind == kinds.CRD:
                refused = refused or _stored_version_problems(new.obj)
            info = self._kinds.get(ref.group_kind)
            if refused and info is not None:
                raise _invalid(info, ref, refused)
            old_view = {
                **old.obj,
                "metadata": {k: v for k, v in old.obj["metadata"].items() if k != "managedFields"},
            }
            same_owners = [(o.key, o.fields) for o in old.owners] == [(o.key, o.fields) for o in new.owners]
            if old_view == new.obj and same_owners:
                return out(old.obj)
        if new.owners:
            new.obj["metadata"]["managedFields"] = [o.render() for o in new.owners]
        # Below a sixteenth of the limit no escaping or UTF-8 width can bring the object near it.
        if size is None or size > MAX_OBJECT_BYTES // 16:
            encoded = json.dumps(new.obj, separators=(",", ":"), ensure_ascii=False).encode()
            if len(encoded) > MAX_OBJECT_BYTES:
                raise errors.ApiError("etcdserver: request is too large")
        meta = new.obj["metadata"]
        if dry_run:
            if old is None:
                meta.pop("uid", None)
            return out(new.obj)
        gk = ref.group_kind
        if (
            old is not None
            and meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and gk != NAMESPACE
        ):
            old.obj = new.obj
            self._remove(ref, "Background")
            return out(new.obj)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        self._put(ref, gk, old, new)
        if gk == kinds.CRD:
            self._serve_crd(new.obj)
        self._notify("ADDED" if old is None else "MODIFIED", ref, new.obj, old.obj if old else None)
        if gk == kinds.CRD and not meta.get("deletionTimestamp"):
            return self._establish(ref, new)
        return out(new.obj)

    def _serve_crd(self, crd: objects.RawObject) -> None:
        """Serve a created or updated CRD's kind in each of its served versions.

        When its storage version changes, the objects already stored are restamped with the new
        apiVersion (the same objects, no new resourceVersion, no event): with conversion None that
        is all a read through the new version would change, and it keeps patches, which name no
        version, writing in the storage version. The real server keeps their old encoding in etcd
        (hence `status.storedVersions`) and converts on every read; no client can tell.
        """
        stored = kinds.from_crd(crd)
        gk = stored.gvk.group_kind
        before = self._kinds.get(gk)
        self._kinds.register(stored, kinds.served_from_crd(crd))
        for key in [k for k in self._schemas if k.group_kind == gk]:
            del self._schemas[key]
        if before is not None and before.gvk.version != stored.gvk.version:
            for entry in self._by_kind.get(gk, {}).values():
                entry.obj = {**entry.obj, "apiVersion": stored.gvk.api_version}

    def _establish(self, ref: refs.ObjectRef, entry: _Entry) -> objects.RawObject:
        """What the apiextensions controllers write once a CRD's names are served, and the storage
        version added to `status.storedVersions` (the CRD strategy's PrepareForUpdate adds it; kept
        here, in the status write that follows the CRD's own)."""
        spec = entry.obj.get("spec") or {}
        versions = spec.get("versions") or []
        stored = list((entry.obj.get("status") or {}).get("storedVersions") or [])
        stored += [v["name"] for v in versions if v.get("storage") and v["name"] not in stored][:1]
        status = {
            "acceptedNames": {k: v for k, v in (spec.get("names") or {}).items()},
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "lastTransitionTime": self._now(),
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                },
                {
                    "type": "Established",
                    "status": "True",
                    "lastTransitionTime": self._now(),
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                },
            ],
            "storedVersions": stored,
        }
        current = entry.obj.get("status") or {}
        if {k: current.get(k) for k in ("acceptedNames", "storedVersions")} == {
            k: status[k] for k in ("acceptedNames", "storedVersions")
        } and current.get("conditions"):
            return objects.deep_copy(entry.obj)
        new = objects.deep_copy(entry.obj)
        new["status"] = status
        owner = Owner(
            "kube-apiserver",
            "Update",
            "apiextensions.k8s.io/v1",
            self._now(),
            frozenset(
                {
                    ("f:status", "f:acceptedNames"),
                    ("f:status", "f:conditions"),
                    ("f:status", "f:storedVersions"),
                }
            ),
            "status",
        )
        owners = [o for o in entry.owners if o.key != owner.key] + [owner]
        return self._commit(ref, entry, _Entry(new, owners), dry_run=False)

    def _validate(
        self,
        ref: refs.ObjectRef,
        obj: objects.RawObject,
        mode: backend.FieldValidation,
        warnings: builtins.list[str] | None,
        shared: bool,
        *,
        created: bool = False,
        info: kinds.KindInfo | None = None,
        old: objects.RawObject | None = None,
        old_checked: schema.Node | None = None,
    ) -> tuple[objects.RawObject, int | None, fields.FieldSet | None, schema.Node | None]:
        """Schema checks before storing: prune and default, then refuse or warn as `mode` says.

        `info`: the version written through (its schema is the one checked; the storage version's
        when omitted, as for patches, which name no version). `old`: the object an update replaces
        (CEL transition rules and ratcheting read it), `old_checked` the schema it was checked
        against (`_Entry.checked`).
        Also returns a lower bound on the object's JSON size when the walk measured all of it,
        with `created`, the field set of the Update that creates the object (None without a
        schema), and the schema checked against.
        """
        info = info or self._kinds.get(ref.group_kind)
        node = self._schema(info) if info else None
        if info is None or node is None:
            return (validation.plain_object(obj) if shared else obj), None, None, None
        stored = self._kinds.get(ref.group_kind)
        # What an update leaves unchanged was checked when stored: written through the stored
        # version, or checked by this very schema (a custom resource's served versions are other
        # KindInfo objects than its stored one; a CRD's changed schema is another Node), which
        # also held its CEL rules.
        held = old_checked is node
        reuse = old is not None and ref.group_kind != kinds.CRD and (info is stored or held)
        checked, report = validation.check(
            obj,
            node,
            custom=info.custom,
            copy=shared,
            created=created,
            include_status=not info.status_subresource,
            old=old,
            reuse_unchanged=reuse,
            rules_held=reuse and held,
        )
        if report.unknown and mode == "Strict":
            unknown = ", ".join(f'unknown field "{f}"' for f in report.unknown)
            raise errors.BadRequest(
                f'{info.gvk.kind} in version "{info.gvk.version}" cannot be handled as a '
                f"{info.gvk.kind}: strict decoding error: {unknown}"
            )
        if report.unknown and mode == "Warn" and warnings is not None:
            warnings.extend(f'unknown field "{f}"' for f in report.unknown)
        if report.errors:
            raise _invalid(info, ref, report.errors)
        default = None if info.custom else defaults.for_kind(ref.group_kind)
        if default is not None:  # the built-in's defaulters, as on decode; create then owns what they set
            default(checked)
            report.created = None
        owned = None
        if report.created is not None:
            for value, at, path in report.deferred:
                fields.walk_created(value, at, path, report.created)
            owned = frozenset(report.created)
        return checked, None if report.opaque else report.size, owned, node

    def _put(self, ref: refs.ObjectRef, gk: refs.GroupKind, old: _Entry | None, new: _Entry) -> None:
        """Store `new` under `ref` and keep the indexes (kind, uid, owner references) in step."""
        if old is not None:
            self._unindex_owners(ref, old.obj)
            self._unindex_labels(ref, old.obj)
        self._objects[ref] = new
        for key, value in (new.obj["metadata"].get("labels") or {}).items():
            self._by_label.setdefault((gk, key, str(value)), set()).add(ref)
        of_kind = self._by_kind.get(gk)
        if of_kind is None:
            of_kind = self._by_kind[gk] = {}
            self._order[gk] = _Order()
        if ref not in of_kind:
            self._order[gk].add(ref)
        of_kind[ref] = new
        if gk == defaults.SERVICE:
            self._unindex_cluster_ip(ref)
            self._index_cluster_ip(ref, new.obj)
        self._by_uid[new.obj["metadata"]["uid"]] = ref
        for owner in new.obj["metadata"].get("ownerReferences") or []:
            self._dependents.setdefault(str(owner.get("uid")), set()).add(ref)

    def _index_cluster_ip(self, ref: refs.ObjectRef, service: objects.RawObject) -> None:
        address = (service.get("spec") or {}).get("clusterIP")
        if isinstance(address, str) and address:
            self._ip_of[ref] = address
            self._cluster_ips[address] = self._cluster_ips.get(address, 0) + 1

    def _unindex_cluster_ip(self, ref: refs.ObjectRef) -> None:
        address = self._ip_of.pop(ref, None)
        if address is not None:
            self._cluster_ips[address] -= 1
            if not self._cluster_ips[address]:
                del self._cluster_ips[address]

    def _unindex_labels(self, ref: refs.ObjectRef, obj: objects.RawObject) -> None:
        for key, value in (obj["metadata"].get("labels") or {}).items():
            index = (ref.group_kind, key, str(value))
            labelled = self._by_label.get(index)
            if labelled is not None:
                labelled.discard(ref)
                if not labelled:
                    del self._by_label[index]

    def _unindex_owners(self, ref: refs.ObjectRef, obj: objects.RawObject) -> None:
        for owner in obj["metadata"].get("ownerReferences") or []:
            dependents = self._dependents.get(str(owner.get("uid")))
            if dependents is not None:
                dependents.discard(ref)
                if not dependents:
                    del self._dependents[str(owner.get("uid"))]

    def _remove(self, ref: refs.ObjectRef, propagation: backend.Propagation) -> None:
        entry = self._objects.pop(ref)
        del self._by_kind[ref.group_kind][ref]
        self._order[ref.group_kind].discard(ref)
        self._unindex_cluster_ip(ref)
        uid = entry.obj["metadata"]["uid"]
        self._by_uid.pop(uid, None)
        self._unindex_owners(ref, entry.obj)
        self._unindex_labels(ref, entry.obj)
        self._rv += 1
        final = {**entry.obj, "metadata": {**entry.obj["metadata"], "resourceVersion": str(self._rv)}}
        self._notify("DELETED", ref, final, None)
        if ref.group_kind == NAMESPACE:
            for child in sorted(r for r in self._objects if r.namespace == ref.name):
                if child in self._objects:
                    self._delete_quietly(child)
        if ref.group_kind == kinds.CRD:
            gone = kinds.from_crd(entry.obj).gvk.group_kind
            for child in sorted(self._by_kind.get(gone, {})):
                self._delete_quietly(child)
            self._kinds.unregister(gone)
        self._collect_dependents(uid, propagation)
        for owner in entry.obj["metadata"].get("ownerReferences") or []:
            self._finish_foreground(str(owner.get("uid")))
        if ref.namespace:
            self._finish_namespace(ref.namespace)

    def _delete_quietly(self, ref: refs.ObjectRef) -> None:
        entry = self._objects[ref]
        entry.obj = {**entry.obj, "metadata": {**entry.obj["metadata"], "finalizers": []}}
        self._remove(ref, "Background")

    def _collect_dependents(self, uid: str, propagation: backend.Propagation) -> None:
        for ref in sorted(self._dependents.get(uid, ())):
            entry = self._objects.get(ref)
            if entry is None:
                continue
            owners = entry.obj["metadata"].get("ownerReferences") or []
            if propagation == "Orphan":
                new = objects.deep_copy(entry.obj)
                remaining = [o for o in owners if o.get("uid") != uid]
                if remaining:
                    new["metadata"]["ownerReferences"] = remaining
                else:
                    del new["metadata"]["ownerReferences"]  # omitempty, as the real server returns it
                self._commit(ref, entry, _Entry(new, entry.owners), dry_run=False)
            elif not any(
                o.get("uid") in self._by_uid
                for o in owners
                if o.get("uid") != uid and not self._is_deleting(str(o.get("uid")))
            ):
                self.delete(ref, propagation="Foreground" if propagation == "Foreground" else "Background")

    def _is_deleting(self, uid: str) -> bool:
        ref = self._by_uid.get(uid)
        return ref is not None and bool(self._objects[ref].obj["metadata"].get("deletionTimestamp"))

    def _notify(
        self,
        etype: backend.EventType,
        ref: refs.ObjectRef,
        obj: objects.RawObject,
        old: objects.RawObject | None,
    ) -> None:
        # Zero-copy: stored objects are never changed in place (every write stores a new dict), so
        # the event can carry the stored object itself; watchers treat it as read-only.
        self._hub.publish(watches.Change(self._rv, etype, ref, obj, old, backend.WatchEvent(etype, obj)))


def _as_is(obj: objects.RawObject) -> objects.RawObject:
    """A write's result when its caller asked to share it (`shared`): the object itself."""
    return obj


def _drop_empty_meta(meta: dict[str, Any]) -> None:
    """Remove the `omitempty` ObjectMeta fields that hold null or an empty string, map or list."""
    for key in [k for k, v in meta.items() if k in _OMITTED_WHEN_EMPTY and v in (None, "", {}, [])]:
        del meta[key]


def _stored_version_problems(crd: objects.RawObject) -> builtins.list[validation.FieldError]:
    """A CRD may not drop a version still listed in `status.storedVersions`: objects may be stored
    in it. Provenance: apiextensions-apiserver `ValidateCustomResourceDefinitionStoredVersions`
    (the message); listed here in index order (the real server's order follows a Go map)."""
    names = {str(v.get("name")) for v in (crd.get("spec") or {}).get("versions") or [] if isinstance(v, dict)}
    stored = (crd.get("status") or {}).get("storedVersions") or []
    return [
        validation.FieldError(
            "FieldValueInvalid",
            f"status.storedVersions[{i}]",
            f"Invalid value: {json.dumps(v)}: must appear in spec.versions",
        )
        for i, v in enumerate(stored)
        if v not in names
    ]


def _uuid4(rng: random.Random) -> str:
    """A version-4 UUID string drawn from the seeded RNG."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _replace_fields(owner: Owner, new_fields: fields.FieldSet) -> Owner:
    return Owner(owner.manager, owner.operation, owner.api_version, owner.time, new_fields, owner.subresource)


_: type[backend.Cluster] = MemoryCluster


def _labels(labels: str | dict[str, str] | None) -> selectors.LabelSelector:
    if not labels:
        return ()
    if isinstance(labels, dict):
        return tuple(selectors.Requirement(k, "=", (v,)) for k, v in sorted(labels.items()))
    return selectors.parse_labels(labels)


def _encode_continue(rv: int, namespace: str, name: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{namespace}/{name}"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, _, name = str(data["start"]).partition("/")
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.BadRequest(f"continue key is not valid: {token!r}") from exc
    return namespace, name


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return objects.clone(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


def _mark_deleting(obj: objects.RawObject, now: str) -> None:
    """The first delete of an object that must wait: deletionTimestamp set, generation bumped."""
    meta = obj["metadata"]
    meta["deletionTimestamp"] = now
    meta["deletionGracePeriodSeconds"] = 0
    if meta.get("generation", 0) > 0:
        meta["generation"] += 1


def _cap_updates(owners: builtins.list[Owner], api_version: str, now: str) -> builtins.list[Owner]:
    """At most 10 Update entries: the oldest are merged into one named `ancient-changes`
    (structured-merge-diff's capManagers), so managedFields cannot grow without bound."""
    updates = [o for o in owners if o.operation == "Update" and o.manager != ANCIENT]
    ancient = next((o for o in owners if o.manager == ANCIENT), None)
    limit = MAX_UPDATE_MANAGERS - (1 if ancient else 0)
    if len(updates) <= limit:
        return owners
    oldest = sorted(updates, key=lambda o: o.time)[: len(updates) - MAX_UPDATE_MANAGERS + 1]
    merged = frozenset().union(*(o.fields for o in oldest), ancient.fields if ancient else frozenset())
    keep = [o for o in owners if o not in oldest and o is not ancient]
    return [*keep, Owner(ANCIENT, "Update", api_version, now, merged)]


def _invalid(
    info: kinds.KindInfo, ref: refs.ObjectRef, problems: builtins.list[validation.FieldError]
) -> errors.Invalid:
    """The apiserver's 422: `<Kind.group> "<name>" is invalid: <field>: <detail>` (a list when several)."""
    kind = f"{info.gvk.kind}.{info.gvk.group}" if info.gvk.group else info.gvk.kind
    listed = [e.message for e in problems]
    body = listed[0] if len(listed) == 1 else "[" + ", ".join(listed) + "]"
    return errors.Invalid(
        f'{kind} "{ref.name}" is invalid: {body}',
        details={
            "name": ref.name,
            "group": info.gvk.group,
            "kind": info.gvk.kind,
            "causes": [e.cause() for e in problems],
        },
    )


def _not_a_map(value: Any) -> str:
    kind = "null" if value is None else yamlsafe.go_json_type(value)
    return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"


def _check_patch_depth(patch: Any, *, wrapper: int = 0) -> None:
    """A patch document nesting deeper than `yamlsafe.MAX_DEPTH` (plus `wrapper` levels of its own,
    2 for a JSON patch's list and operation) is refused before any merge walks it (our own limit;
    see `bodies`)."""
    limit = yamlsafe.MAX_DEPTH + wrapper
    if yamlsafe.depth(patch, limit) > limit:
        raise errors.BadRequest(
            f"error decoding patch: the patch nests deeper than {yamlsafe.MAX_DEPTH} levels"
        )


def _check_uid(
    info: kinds.KindInfo, ref: refs.ObjectRef, old: objects.RawObject, sent: objects.RawObject
) -> None:
    """ValidateObjectMetaUpdate: a uid sent with an update must be the object's own (empty keeps it)."""
    uid = (sent.get("metadata") or {}).get("uid")
    if uid and uid != old["metadata"]["uid"]:
        raise _invalid(
            info,
            ref,
            [
                validation.FieldError(
                    "FieldValueInvalid", "metadata.uid", f'Invalid value: "{uid}": field is immutable'
                )
            ],
        )


def _check_patched(info: kinds.KindInfo, ref: refs.ObjectRef, old: objects.RawObject, patched: Any) -> None:
    """What the patch handler refuses in a patched object before it becomes an update.

    Provenance: apiserver `endpoints/handlers/patch.go`: the patched JSON is decoded (a failure is a
    422 about `patch`), then `EnsureObjectNamespaceMatchesRequestNamespace` and `checkName` (400s);
    the update path then refuses a changed uid (ValidateObjectMetaUpdate). A changed `kind` or
    `apiVersion` is refused as the custom resource validator words it (`kind: Invalid value: "X":
    must be Y`); for built-ins the real server fails decoding with a message naming Go types, so
    there we knowingly differ in wording (the code, 422, is the same). Missing ones are restored.
    Fixes `patched` in place: metadata set, kind and apiVersion restored, namespace filled in.
    """
    problem = bodies.too_deep(patched) or bodies.decode_problem(patched, info.gvk.group, info.gvk.kind)
    if problem:
        shown = json.dumps(json.dumps(patched, separators=(",", ":"), sort_keys=True), ensure_ascii=False)
        raise errors.Invalid(
            f' "" is invalid: patch: Invalid value: {shown}: {problem}',
            details={
                "causes": [
                    {
                        "reason": "FieldValueInvalid",
                        "message": f"Invalid value: {shown}: {problem}",
                        "field": "patch",
                    }
                ]
            },
        )
    for key, want in (("kind", info.gvk.kind), ("apiVersion", info.gvk.api_version)):
        have = patched.get(key)
        if have and have != want:
            raise _invalid(
                info,
                ref,
                [validation.FieldError("FieldValueInvalid", key, f'Invalid value: "{have}": must be {want}')],
            )
        patched[key] = want
    if patched.get("metadata") is None:
        patched["metadata"] = {}
    meta = patched["metadata"]
    namespace = meta.get("namespace") or ""
    if info.namespaced:
        if namespace and namespace != ref.namespace:
            raise errors.BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = ref.namespace
    name = meta.get("name") or ""
    if name != ref.name:
        raise errors.BadRequest(
            f"the name of the object ({name}) does not match the name on the URL ({ref.name})"
        )
    _check_uid(info, ref, old, patched)


def _decodable_owners(entries: builtins.list[Any]) -> bool:
    """Whether sent managedFields decode (apimachinery `managedfields` DecodeManagedFields): each
    entry an Apply or Update with FieldsV1. When they do not, the field manager keeps the live
    object's managedFields, as `decodeLiveOrNew` does."""
    return all(
        e == {}  # `[{}]`: the reset the real server documents
        or (
            isinstance(e, dict)
            and e.get("operation") in ("Apply", "Update")
            and e.get("fieldsType") in (None, "", "FieldsV1")
            and isinstance(e.get("fieldsV1") or {}, dict)
        )
        for e in entries
    )
