"""The types every Flux API shares: references, conditions, artifacts, history, kustomize patches.

Provenance: fluxcd/pkg `apis/meta` (reference_types.go, artifact.go, history.go,
dependencies.go, annotations.go), `apis/kustomize` (kustomize_types.go), `apis/acl` and
Kubernetes' `metav1.Condition`; the markers are theirs, the descriptions our own words.

Callers: the Flux API modules (`source`, `kustomize`, `helm`, ...). Pure declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_sim.model.fluxapi.declare import Json, Rule, f, rules

# The pattern Flux puts on every `interval`, `timeout` and `retryInterval` (a Go duration in
# ms, s, m and h only).
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
DATE_TIME = "date-time"


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalObjectReference:
    """A reference to an object in the same namespace."""

    name: str = f("Name of the referenced object.")


@dataclass(frozen=True, slots=True, kw_only=True)
class NamespacedObjectReference:
    """A reference to an object, in the referrer's namespace unless another is named."""

    name: str = f("Name of the referenced object.")
    namespace: str | None = f("Namespace of the referenced object; the referrer's when omitted.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class NamespacedObjectKindReference:
    """A reference to an object of a given kind, in the referrer's namespace unless another is named."""

    api_version: str | None = f(
        "API version of the referenced object; the server's preferred version when omitted.", empty=None
    )
    kind: str = f("Kind of the referenced object.")
    name: str = f("Name of the referenced object.")
    namespace: str | None = f("Namespace of the referenced object; the referrer's when omitted.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DependencyReference:
    """An object this one waits for before it reconciles."""

    name: str = f("Name of the dependency.")
    namespace: str | None = f("Namespace of the dependency; the dependent's when omitted.", empty=None)
    ready_expr: str | None = f(
        "A CEL expression over `self` (the dependent) and `dep` (the dependency) that decides "
        "whether the dependency is ready; it replaces the built-in readiness check unless the "
        "AdditiveCELDependencyCheck feature gate is on.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretKeyReference:
    """A key of a Secret in the referrer's namespace."""

    name: str = f("Name of the Secret.")
    key: str | None = f("Key in the Secret; an implementation-specific default when omitted.", empty=None)


_ONE_KUBECONFIG = "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified"


@rules(
    Rule("has(self.configMapRef) || has(self.secretRef)", _ONE_KUBECONFIG),
    Rule("!has(self.configMapRef) || !has(self.secretRef)", _ONE_KUBECONFIG),
)
@dataclass(frozen=True, slots=True, kw_only=True)
class KubeConfigReference:
    """Where the kubeconfig of a remote cluster comes from: a Secret holding the file, or a
    ConfigMap naming a cloud provider's cluster (`provider`, `cluster`, `address`, `ca.crt`,
    `audiences`, `serviceAccountName`). The two are mutually exclusive."""

    config_map_ref: LocalObjectReference | None = f(
        "A ConfigMap naming the provider (aws, azure, gcp or generic) and the cluster to reach "
        "with workload identity. Mutually exclusive with secretRef.",
        empty=None,
    )
    secret_ref: SecretKeyReference | None = f(
        "A Secret holding a self-contained kubeconfig under `key` (default `value`). "
        "Mutually exclusive with configMapRef.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ValuesReference:
    """A ConfigMap or Secret key whose content is merged into Helm values."""

    kind: Literal["Secret", "ConfigMap"] = f("Kind of the object holding the values.")
    name: str = f("Name of the object, in the referrer's namespace.", max_length=253, min_length=1)
    values_key: str | None = f(
        "The key holding the values; `values.yaml` when omitted.",
        empty=None,
        max_length=253,
        pattern=r"^[\-._a-zA-Z0-9]+$",
    )
    target_path: str | None = f(
        "The values path (Helm `--set` syntax) the key's content is written to, instead of "
        "merging it at the root.",
        empty=None,
        max_length=250,
        pattern=r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$",
    )
    optional: bool = f(
        "Whether a missing object or key is tolerated (the reference is then skipped).", empty=False
    )
    literal: bool = f(
        "Whether the content is one literal value written at targetPath as it is (a string), "
        "rather than YAML to parse.",
        empty=False,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One observation of an object's state (Kubernetes `metav1.Condition`)."""

    last_transition_time: str = f("When the condition last changed status.", format=DATE_TIME)
    message: str = f("A human readable account of the transition.", max_length=32768)
    observed_generation: int | None = f(
        "The object's .metadata.generation the condition was set for.", empty=None, minimum=0
    )
    reason: str = f(
        "A CamelCase, programmatic reason for the condition's last transition.",
        max_length=1024,
        min_length=1,
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    )
    status: Literal["True", "False", "Unknown"] = f("Status of the condition.")
    type: str = f(
        "Type of the condition, in CamelCase or foo.example.com/CamelCase.",
        max_length=316,
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    )


CONDITIONS_DOC = "The latest available observations of the object's state."


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """The output of a source reconciliation: a tarball (or file) the source-controller serves."""

    digest: str = f(
        "The file's digest, `<algorithm>:<checksum>`.",
        pattern=r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$",
    )
    last_update_time: str = f("When the artifact was last updated.", format=DATE_TIME)
    metadata: dict[str, str] | None = f("Upstream information, such as OCI annotations.", empty=None)
    path: str = f("The artifact's path relative to the root of the controller's storage.")
    revision: str = f(
        "A human-readable identifier of what the artifact holds in its origin: a Git commit, "
        "a tag and digest, a chart version."
    )
    size: int | None = f("The file's size in bytes.", empty=None)
    url: str = f("The HTTP address the controller serves the artifact at.")


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """One entry of a reconciliation history: a group of resources reconciled at a digest."""

    digest: str = f("Checksum, `<algo>:<hex>`, of the resources of this snapshot.")
    first_reconciled: str = f("When this digest was first reconciled.", format=DATE_TIME)
    last_reconciled: str = f("When this digest was last reconciled.", format=DATE_TIME)
    last_reconciled_duration: str = f("How long the last reconciliation of this digest took.")
    last_reconciled_status: str = f("The outcome of the last reconciliation of this digest.")
    metadata: dict[str, str] | None = f(
        "More about the snapshot (the source revision, for example).", empty=None
    )
    total_reconciliations: int = f("How many times this digest was reconciled.")


HISTORY_DOC = "The latest reconciliations of the object, most recent first, one entry per digest."

LAST_HANDLED_RECONCILE_AT_DOC = (
    "The value of the reconcile.fluxcd.io/requestedAt annotation the controller last acted on; "
    "`flux reconcile` compares it to know its request was handled."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """An image name, tag or digest rewritten in the built manifests (kustomize `images`)."""

    digest: str | None = f("The digest to use instead of the tag; it wins over newTag.", empty=None)
    name: str = f("The image name to look for in the manifests.")
    new_name: str | None = f("The name to replace it with.", empty=None)
    new_tag: str | None = f("The tag to replace the original's with.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Selector:
    """Which resources a patch applies to (kustomize's target selector)."""

    annotation_selector: str | None = f(
        "A label-selector expression matched against the resources' annotations.", empty=None
    )
    group: str | None = f("API group of the resources.", empty=None)
    kind: str | None = f("Kind of the resources.", empty=None)
    label_selector: str | None = f(
        "A label-selector expression matched against the resources' labels.", empty=None
    )
    name: str | None = f("Name of the resources.", empty=None)
    namespace: str | None = f("Namespace of the resources.", empty=None)
    version: str | None = f("API version of the resources.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Patch:
    """A strategic merge or JSON 6902 patch and the resources it applies to."""

    patch: str = f("The patch: a strategic merge patch or a JSON 6902 patch, inline as YAML.")
    target: Selector | None = f("The resources the patch applies to.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class JSON6902:
    """One JSON 6902 operation."""

    from_: str | None = f("The path to copy or move from.", empty=None, json="from")
    op: Literal["test", "remove", "add", "replace", "move", "copy"] = f("The operation.")
    path: str = f("The JSON pointer the operation acts on.")
    value: Json | None = f("The value to add, replace or test.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomHealthCheck:
    """CEL expressions that say when objects of one kind are healthy."""

    api_version: str = f("API version of the kind the expressions apply to.")
    current: str = f("A CEL expression true when the object is Ready (Current).")
    failed: str | None = f("A CEL expression true when the object has failed.", empty=None)
    in_progress: str | None = f("A CEL expression true when the object is still progressing.", empty=None)
    kind: str | None = f("The kind the expressions apply to.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class NamespaceSelector:
    """Namespaces picked by their labels."""

    match_labels: dict[str, str] | None = f(
        "Labels a namespace must carry, all of them (the same as a label selector's matchLabels).",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessFrom:
    """Which namespaces may refer to this object across namespaces."""

    namespace_selectors: tuple[NamespaceSelector, ...] = f(
        "Namespaces allowed to refer to the object; any one matching is enough."
    )
