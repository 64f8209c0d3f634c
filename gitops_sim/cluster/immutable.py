"""Fields the apiserver refuses to change once an object exists (422 Invalid on update).

Provenance: the update validation of kubernetes `pkg/apis/{apps,batch,core}/validation`
(ValidateDeploymentUpdate, ValidateStatefulSetUpdate, ValidateJobUpdate,
ValidateConfigMapUpdate, ValidateSecretUpdate); our own code. Covered: the selector of
Deployments, ReplicaSets and DaemonSets; a Job's selector and pod template; every StatefulSet
spec field but the updatable ones; ConfigMaps and Secrets marked `immutable: true`. Values are
shown as JSON where the apiserver prints Go structs (a LabelSelector is printed as Go would).

Callers: the memory store, on every update and dry-run update. Pure.
"""

from __future__ import annotations

import json
from typing import Any

from gitops_sim.cluster.validation import FieldError

STATEFULSET_UPDATABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _selector(value: Any) -> str:
    """A LabelSelector as the apiserver prints it (Go's %#v)."""
    value = value or {}
    labels = value.get("matchLabels")
    shown = (
        "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"
        if labels
        else "map[string]string(nil)"
    )
    exprs = value.get("matchExpressions")
    shown_exprs = (
        "[]v1.LabelSelectorRequirement{" + ", ".join(json.dumps(e, sort_keys=True) for e in exprs) + "}"
        if exprs
        else "[]v1.LabelSelectorRequirement(nil)"
    )
    return f"v1.LabelSelector{{MatchLabels:{shown}, MatchExpressions:{shown_exprs}}}"


def _immutable(path: str, shown: str) -> FieldError:
    return FieldError("FieldValueInvalid", path, f"Invalid value: {shown}: field is immutable")


def check_update(group: str, kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    """What the update from `old` to `new` may not change."""
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    out: list[FieldError] = []
    if (group, kind) in (("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet")):
        if old_spec.get("selector") != new_spec.get("selector"):
            out.append(_immutable("spec.selector", _selector(new_spec.get("selector"))))
    elif (group, kind) == ("batch", "Job"):
        if old_spec.get("selector") is not None and old_spec.get("selector") != new_spec.get("selector"):
            out.append(_immutable("spec.selector", _selector(new_spec.get("selector"))))
        if old_spec.get("template") != new_spec.get("template"):
            shown = json.dumps(new_spec.get("template"), sort_keys=True, separators=(",", ":"))
            out.append(_immutable("spec.template", shown))
    elif (group, kind) == ("apps", "StatefulSet"):
        fixed = {k: v for k, v in old_spec.items() if k not in STATEFULSET_UPDATABLE}
        if fixed != {k: v for k, v in new_spec.items() if k not in STATEFULSET_UPDATABLE}:
            allowed = ", ".join(f"'{k}'" for k in STATEFULSET_UPDATABLE[:-1])
            out.append(
                FieldError(
                    "FieldValueForbidden",
                    "spec",
                    f"Forbidden: updates to statefulset spec for fields other than {allowed} and "
                    f"'{STATEFULSET_UPDATABLE[-1]}' are forbidden",
                )
            )
    elif group == "" and kind in ("ConfigMap", "Secret") and old.get("immutable") is True:
        if new.get("immutable") is not True:
            out.append(
                FieldError(
                    "FieldValueForbidden",
                    "immutable",
                    "Forbidden: field is immutable when `immutable` is set",
                )
            )
        for key in ("data", "binaryData") if kind == "ConfigMap" else ("data",):
            if (old.get(key) or {}) != (new.get(key) or {}):
                out.append(
                    FieldError(
                        "FieldValueForbidden", key, "Forbidden: field is immutable when `immutable` is set"
                    )
                )
    return out
