"""A Hypothesis state machine drives random writes and watches against the in-memory store and
checks, after every step, the invariants a real API server keeps."""

from __future__ import annotations

import os
import random
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gitops_sim.cluster import backend, errors, selectors
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from gitops_sim.timing import clock as clocks

NAMES = st.sampled_from(["a", "b", "c", "d"])
KIND = refs.GroupKind("apps", "Deployment")
MANAGERS = st.sampled_from(["flux", "kubectl", "hpa"])
# How many examples: bounded by default, more when GITOPS_SIM_FUZZ_EXAMPLES asks (tests may read it).
EXAMPLES = int(os.environ.get("GITOPS_SIM_FUZZ_EXAMPLES", "60"))  # noqa: TID251
SELECTORS = st.sampled_from(["tier=x", "tier!=x", "tier", "!tier", "tier in (x,y)", "team=y"])
# JSON patch operations, valid and not, on a Deployment.
JSON_OPS = st.sampled_from(
    [
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "y"}},
        {"op": "add", "path": "/metadata/labels/tier", "value": "x"},
        {"op": "remove", "path": "/metadata/labels/tier"},
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "side", "image": "s"}},
        {"op": "remove", "path": "/spec/template/spec/containers/7"},
        {"op": "replace", "path": "/metadata/name", "value": "other"},
        {"op": "replace", "path": "/kind", "value": "StatefulSet"},
        {"op": "replace", "path": "/metadata", "value": None},
        {"op": "move", "from": "/spec/replicas", "path": "/spec/paused"},
        {"op": "copy", "from": "/metadata/labels", "path": "/spec/selector/matchLabels"},
        {"path": "/spec"},
        {"op": "add", "path": "", "value": {}},
    ]
)
MERGE_PATCHES = st.sampled_from(
    [
        {"spec": {"replicas": 3}},
        {"metadata": {"labels": {"tier": "x"}}},
        {"metadata": {"labels": {"tier": None}}},
        {"metadata": {"labels": {"tier": 5}}},
        {"metadata": None},
        {"metadata": {"uid": "stolen"}},
        {"kind": "ConfigMap"},
        {"spec": {"template": {"spec": {"containers": None}}}},
        {"spec": "flat"},
    ]
)
STRATEGIC_PATCHES = st.sampled_from(
    [
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "b"}]}}}},
        {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "s"}]}}}},
        {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}},
        {"spec": {"template": {"spec": {"containers": [{"image": "no-name"}]}}}},
        {"metadata": {"labels": {"tier": "y"}}},
        {"metadata": {"$patch": "delete"}},
        {"spec": {"$patch": "bogus"}},
    ]
)


def deployment(name: str, replicas: int, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", **({"labels": labels} if labels else {})},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "a"}]},
            },
        },
    }


def ref(name: str) -> refs.ObjectRef:
    return refs.ObjectRef("apps", "Deployment", "default", name)


class StoreMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.cluster = store.MemoryCluster(clocks.VirtualClock(), random.Random(0))
        self.cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}, field_manager="setup"
        )
        self.log: list[backend.WatchEvent] = []  # every change since the start, all kinds
        self.cluster.watch(self.log.append, resource_version=str(self.cluster.resource_version))
        self.watchers: list[tuple[int, list[backend.WatchEvent]]] = []  # (log position at start, events)
        self.generations: dict[str, tuple[int, Any]] = {}  # name -> (generation, spec) last seen
        self.checked = 0  # how much of the log the generation invariant has read
        # Label-selected watches: (selector, log position at start, names matching then, events).
        self.selected: list[tuple[str, int, set[str], list[backend.WatchEvent]]] = []

    def _live(self, name: str) -> dict[str, Any] | None:
        try:
            return self.cluster.get(ref(name))
        except errors.NotFound:
            return None

    @rule(name=NAMES, replicas=st.integers(0, 3))
    def create(self, name: str, replicas: int) -> None:
        try:
            self.cluster.create(deployment(name, replicas), field_manager="kubectl-create")
        except errors.AlreadyExists:
            assert self._live(name) is not None

    @rule(name=NAMES, replicas=st.integers(0, 3), team=st.sampled_from(["x", "y"]))
    def update(self, name: str, replicas: int, team: str) -> None:
        live = self._live(name)
        if live is None:
            return
        live["spec"]["replicas"] = replicas
        live["metadata"].setdefault("labels", {})["team"] = team
        self.cluster.update(live, field_manager="kubectl-edit")

    @rule(name=NAMES, replicas=st.integers(0, 3), manager=MANAGERS, force=st.booleans())
    def apply(self, name: str, replicas: int, manager: str, force: bool) -> None:
        try:
            self.cluster.apply(deployment(name, replicas), field_manager=manager, force=force)
        except errors.Conflict:
            assert not force

    @rule(name=NAMES, replicas=st.integers(0, 3), label=st.sampled_from(["x", "y", None]))
    def patch(self, name: str, replicas: int, label: str | None) -> None:
        try:
            self.cluster.merge_patch(
                ref(name),
                {"spec": {"replicas": replicas}, "metadata": {"labels": {"tier": label}}},
                field_manager="kubectl-patch",
            )
        except errors.NotFound:
            assert self._live(name) is None

    def _patch(self, name: str, write: Any) -> None:
        """Run a patch: it applies, or fails as an API error leaving everything as it was."""
        before = self._live(name)
        version = self.cluster.resource_version
        try:
            out = write()
        except errors.NotFound:
            assert before is None
            return
        except errors.ApiError:
            assert self.cluster.resource_version == version
            assert self._live(name) == before
            return
        assert out["metadata"]["name"] == name
        assert out["kind"] == "Deployment" and out["apiVersion"] == "apps/v1"
        assert before is not None and out["metadata"]["uid"] == before["metadata"]["uid"]

    @rule(name=NAMES, ops=st.lists(JSON_OPS, min_size=1, max_size=3))
    def json_patch(self, name: str, ops: list[dict[str, Any]]) -> None:
        self._patch(name, lambda: self.cluster.json_patch(ref(name), ops, field_manager="kubectl-json"))

    @rule(name=NAMES, patch=MERGE_PATCHES)
    def merge_patch(self, name: str, patch: dict[str, Any]) -> None:
        self._patch(name, lambda: self.cluster.merge_patch(ref(name), patch, field_manager="kubectl-merge"))

    @rule(name=NAMES, patch=STRATEGIC_PATCHES)
    def strategic_patch(self, name: str, patch: dict[str, Any]) -> None:
        self._patch(
            name, lambda: self.cluster.strategic_merge_patch(ref(name), patch, field_manager="kubectl-smp")
        )

    @precondition(lambda self: len(self.selected) < 3)
    @rule(selector=SELECTORS)
    def start_label_watch(self, selector: str) -> None:
        events: list[backend.WatchEvent] = []
        self.cluster.watch(
            events.append, kind=KIND, labels=selector, resource_version=str(self.cluster.resource_version)
        )
        matching = {o["metadata"]["name"] for o in self.cluster.list(KIND) if _matches(selector, o)}
        self.selected.append((selector, len(self.log), matching, events))

    @rule(name=NAMES, add=st.booleans())
    def finalizer(self, name: str, add: bool) -> None:
        live = self._live(name)
        if live is None:
            return
        live["metadata"]["finalizers"] = ["example.com/hold"] if add else []
        if add and live["metadata"].get("deletionTimestamp"):
            return  # the real server forbids adding finalizers once deleting; not modelled here
        self.cluster.update(live, field_manager="controller")

    @rule(owner=NAMES, child=NAMES)
    def own(self, owner: str, child: str) -> None:
        parent, dependent = self._live(owner), self._live(child)
        if parent is None or dependent is None or owner == child:
            return
        dependent["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": owner, "uid": parent["metadata"]["uid"]}
        ]
        self.cluster.update(dependent, field_manager="controller")

    @rule(name=NAMES, propagation=st.sampled_from(["Background", "Orphan"]))
    def delete(self, name: str, propagation: backend.Propagation) -> None:
        try:
            self.cluster.delete(ref(name), propagation=propagation)
        except errors.NotFound:
            assert self._live(name) is None

    @precondition(lambda self: len(self.watchers) < 4)
    @rule(back=st.integers(0, 5))
    def start_watch(self, back: int) -> None:
        position = max(0, len(self.log) - back)
        since = self.log[position - 1].object["metadata"]["resourceVersion"] if position else None
        events: list[backend.WatchEvent] = []
        if since is None:
            position = len(self.log)
            since = str(self.cluster.resource_version)
        self.cluster.watch(events.append, resource_version=since)
        self.watchers.append((position, events))

    @invariant()
    def resource_versions_strictly_increase(self) -> None:
        versions = [int(e.object["metadata"]["resourceVersion"]) for e in self.log]
        assert versions == sorted(set(versions))

    @invariant()
    def a_label_selected_list_is_the_full_list_filtered(self) -> None:
        """The label index a LIST reads never disagrees with the labels themselves."""
        everything = self.cluster.list(KIND)
        for selector in ("tier=x", "tier=y", "team=y", "tier=x,team=y", "tier!=x"):
            expected = [o["metadata"]["name"] for o in everything if _matches(selector, o)]
            assert [o["metadata"]["name"] for o in self.cluster.list(KIND, labels=selector)] == expected

    @invariant()
    def every_watcher_sees_every_change_once_in_order(self) -> None:
        for position, events in self.watchers:
            expected = [(e.type, e.object["metadata"]["resourceVersion"]) for e in self.log[position:]]
            assert [(e.type, e.object["metadata"]["resourceVersion"]) for e in events] == expected

    @invariant()
    def a_label_selected_watch_sees_objects_enter_and_leave_the_selection(self) -> None:
        """As the apiserver's watch cache filters: a change into the selection is ADDED, one out of
        it DELETED, one within it MODIFIED, anything else unseen."""
        for selector, position, matching, events in self.selected:
            inside = set(matching)
            expected: list[tuple[str, str, str]] = []
            for event in self.log[position:]:
                obj = event.object
                if obj.get("kind") != "Deployment":
                    continue
                name, rv = obj["metadata"]["name"], obj["metadata"]["resourceVersion"]
                was, now = name in inside, _matches(selector, obj) and event.type != "DELETED"
                if event.type == "DELETED" and was:
                    expected.append(("DELETED", name, rv))
                elif now and not was:
                    expected.append(("ADDED", name, rv))
                elif now and was:
                    expected.append(("MODIFIED", name, rv))
                elif was and not now:
                    expected.append(("DELETED", name, rv))
                (inside.add if now else inside.discard)(name)
            seen = [
                (e.type, e.object["metadata"]["name"], e.object["metadata"]["resourceVersion"])
                for e in events
            ]
            assert seen == expected

    @invariant()
    def every_stored_object_serves_back_valid(self) -> None:
        for obj in self.cluster.list(KIND):
            meta = obj["metadata"]
            assert isinstance(meta["name"], str) and meta["name"] in ("a", "b", "c", "d")
            assert obj["kind"] == "Deployment" and obj["apiVersion"] == "apps/v1"
            assert all(isinstance(v, str) for v in (meta.get("labels") or {}).values())
            assert isinstance(obj["spec"], dict)

    @invariant()
    def generation_moves_only_with_the_spec(self) -> None:
        for event in self.log[self.checked :]:
            obj = event.object
            if obj.get("kind") != "Deployment":
                continue
            name = obj["metadata"]["name"]
            generation, spec = obj["metadata"].get("generation", 0), obj.get("spec")
            if event.type == "ADDED":
                assert generation == 1
            elif name in self.generations and event.type == "MODIFIED":
                before, before_spec = self.generations[name]
                deleting = obj["metadata"].get("deletionTimestamp")
                if spec == before_spec and not deleting:
                    assert generation == before
                else:
                    assert generation >= before
            self.generations[name] = (generation, spec)
            if event.type == "DELETED":
                del self.generations[name]
        self.checked = len(self.log)

    @invariant()
    def nothing_with_a_finalizer_disappears(self) -> None:
        for event in self.log:
            if event.type == "DELETED":
                assert not event.object["metadata"].get("finalizers")

    @invariant()
    def no_dependent_outlives_its_owners(self) -> None:
        live_uids = {o["metadata"]["uid"] for o in self.cluster.list(KIND)}
        for obj in self.cluster.list(KIND):
            for owner in obj["metadata"].get("ownerReferences") or []:
                if obj["metadata"].get("deletionTimestamp"):
                    continue  # waiting for its own finalizer before the collector can take it
                assert owner["uid"] in live_uids, f"{obj['metadata']['name']} outlived its owner"


def _matches(selector: str, obj: dict[str, Any]) -> bool:
    labels = obj["metadata"].get("labels") or {}
    return all(r.matches(labels) for r in selectors.parse_labels(selector))


StoreMachine.TestCase.settings = settings(max_examples=EXAMPLES, stateful_step_count=40, deadline=None)
test_the_store_keeps_the_api_servers_invariants = StoreMachine.TestCase
