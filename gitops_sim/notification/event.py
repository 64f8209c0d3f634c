"""The event a Flux controller posts to notification-controller (fluxcd/pkg `apis/event/v1beta1`).

What it does: `Event` is Flux's event payload: the involved object, severity (`info` for a Normal
Kubernetes event, `error` for a Warning; a trace is never posted), the time, message, reason,
metadata (keys prefixed with the API group of the object, or of `event.toolkit.fluxcd.io`:
`kustomize.toolkit.fluxcd.io/revision`, `.../token`, `.../commit_status`) and the reporting
controller. `to_json` writes it as Go's `json.Marshal` does (field order, `omitempty`), which is
what every `generic` sink receives and what `generic-hmac` signs.

Provenance: fluxcd/pkg apis/event/v1beta1/event.go (`Event`, the metadata keys, `GetRevision`),
runtime/events/recorder.go (`AnnotatedEventf`: severity, what is posted) and
k8s.io/api/core/v1 `ObjectReference`; our own code.

Callers: the engine's event recorder (it builds them), notification routing and providers. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gitops_sim.model import gojson

GROUP = "event.toolkit.fluxcd.io"
INFO: Literal["info"] = "info"
ERROR: Literal["error"] = "error"
TRACE = "trace"

META_REVISION_KEY = "revision"
META_ORIGIN_REVISION_KEY = "originRevision"
META_COMMIT_KEY = "commit"
META_TOKEN_KEY = "token"
META_COMMIT_STATUS_KEY = "commit_status"
META_COMMIT_STATUS_UPDATE_VALUE = "update"
META_CHECKSUM_KEY = "checksum"
META_DIGEST_KEY = "digest"
META_CHANGE_REQUEST_KEY = "change_request"

Severity = Literal["info", "error"]


@dataclass(frozen=True, slots=True)
class ObjectReference:
    """core/v1 `ObjectReference` of the involved object."""

    kind: str
    namespace: str
    name: str
    api_version: str = ""
    uid: str = ""
    resource_version: str = ""

    @property
    def group(self) -> str:
        """The API group (`kustomize.toolkit.fluxcd.io`; "" for the core group)."""
        return self.api_version.rpartition("/")[0]

    def to_json(self) -> dict[str, str]:
        out = {"kind": self.kind, "namespace": self.namespace, "name": self.name, "uid": self.uid}
        out.update({"apiVersion": self.api_version, "resourceVersion": self.resource_version})
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class Event:
    """Flux's event (see the module docstring)."""

    involved_object: ObjectReference
    severity: Severity
    timestamp: str
    """RFC 3339, seconds (`metav1.Time`)."""
    message: str
    reason: str
    reporting_controller: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    reporting_instance: str = ""

    def meta(self, key: str) -> str | None:
        """The metadata value of `key` under the involved object's group (`<group>/<key>`)."""
        return self.metadata.get(f"{self.involved_object.group}/{key}")

    def revision(self) -> str | None:
        """`GetRevision` over the group-prefixed keys: commit, then originRevision, then revision."""
        for key in (META_COMMIT_KEY, META_ORIGIN_REVISION_KEY, META_REVISION_KEY):
            value = self.meta(key)
            if value is not None:
                return value
        return None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "involvedObject": self.involved_object.to_json(),
            "severity": self.severity,
            "timestamp": self.timestamp,
            "message": self.message,
            "reason": self.reason,
        }
        if self.metadata:
            out["metadata"] = dict(sorted(self.metadata.items()))
        out["reportingController"] = self.reporting_controller
        if self.reporting_instance:
            out["reportingInstance"] = self.reporting_instance
        return out

    def body(self) -> bytes:
        """The JSON body as Go's `json.Marshal` writes it (compact, Go's escapes)."""
        return gojson.marshal(self.to_json())
