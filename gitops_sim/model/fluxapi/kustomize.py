"""The kustomize-controller API: the Kustomization kind, kustomize.toolkit.fluxcd.io/v1.

Declares the Kustomization's spec (source, path, kustomize overlays, post-build substitution,
SOPS decryption, health checks, dependencies, remote clusters, garbage collection) and its status
(applied revisions, inventory of applied objects, reconciliation history).

Provenance: fluxcd/kustomize-controller api/v1/kustomization_types.go, api/v1/reference_types.go,
api/v1/inventory_types.go and the generated CRD
config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml (docs/spec/v1/kustomizations.md
for the meaning); the names, markers, defaults and CEL rules are Flux's, the descriptions our own.

Callers: the kustomize-controller simulation reads specs with `declare.parse(KustomizationSpec,
...)`; `crds` generates the CRD from `KUSTOMIZATION`. Pure declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_sim.model.fluxapi import declare, meta
from gitops_sim.model.fluxapi.declare import f

GROUP = "kustomize.toolkit.fluxcd.io"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommonMetadata:
    """Labels and annotations set on every object the Kustomization applies."""

    annotations: dict[str, str] | None = f(
        "Annotations added to every applied object, replacing any with the same key.", empty=None
    )
    labels: dict[str, str] | None = f(
        "Labels added to every applied object, replacing any with the same key.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Decryption:
    """How encrypted Secrets in the manifests are decrypted before they are applied."""

    provider: Literal["sops"] = f("The decryption engine; only `sops` is supported.")
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret holding the decryption keys (OpenPGP, age, Vault token or cloud KMS "
        "credentials); its static cloud credentials take precedence over serviceAccountName.",
        empty=None,
    )
    service_account_name: str | None = f(
        "A service account whose workload identity authenticates to the cloud KMS services, "
        "when the Secret holds no static credentials for them.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreRule:
    """Object fields that drift detection leaves alone."""

    paths: tuple[str, ...] = f("JSON Pointer (RFC 6901) paths of the fields to ignore.")
    target: meta.Selector | None = f(
        "The objects the rule applies to; every object of the Kustomization when omitted.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SubstituteReference:
    """A ConfigMap or Secret whose data keys are variables for post-build substitution."""

    kind: Literal["Secret", "ConfigMap"] = f("Kind of the object holding the variables.")
    name: str = f("Name of the object, in the Kustomization's namespace.", max_length=253, min_length=1)
    optional: bool = f(
        "Whether a missing object is tolerated (read as holding no variables) instead of failing "
        "the reconciliation.",
        default=False,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PostBuild:
    """What happens to the built manifests before they are applied: variable substitution."""

    substitute: dict[str, str] | None = f(
        "Variables and their values: `${name}` in the manifests is replaced by the value "
        "(bash-style forms such as `${name:=default}` are supported).",
        empty=None,
    )
    substitute_from: tuple[SubstituteReference, ...] = f(
        "ConfigMaps and Secrets whose data supply more variables; later ones win, and "
        "`substitute` wins over all of them.",
        empty=tuple,
    )
    substitute_strategy: Literal["WithVariables", "Always"] | None = f(
        "When substitution runs: `WithVariables` (the default) only when some variable is "
        "defined, `Always` even without variables (so `${name:=default}` forms still resolve).",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossNamespaceSourceReference:
    """The Flux source whose artifact holds the manifests, in any namespace."""

    api_version: str | None = f("API version of the source.", empty=None)
    kind: Literal["OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"] = f("Kind of the source.")
    name: str = f("Name of the source.")
    namespace: str | None = f("Namespace of the source; the Kustomization's when omitted.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class KustomizationSpec:
    """Where the manifests come from, how they are built and how they are applied."""

    build_metadata: tuple[Literal["originAnnotations", "transformerAnnotations"], ...] = f(
        "Kustomize build metadata to add to the built objects as annotations: "
        "`originAnnotations` (the file each object came from) and `transformerAnnotations` "
        "(the transformers that changed it).",
        empty=tuple,
    )
    common_metadata: CommonMetadata | None = f(
        "Labels and annotations set on every applied object.", empty=None
    )
    components: tuple[str, ...] = f(
        "Paths of kustomize Components, relative to `path`, added to the build.", empty=tuple
    )
    decryption: Decryption | None = f(
        "How to decrypt SOPS-encrypted Secrets before applying them.", empty=None
    )
    deletion_policy: Literal["MirrorPrune", "Delete", "WaitForTermination", "Orphan"] | None = f(
        "What happens to the applied objects when the Kustomization is deleted: `MirrorPrune` "
        "(the default) deletes them if `prune` is true, `Delete` deletes them, "
        "`WaitForTermination` deletes them and waits until they are gone, `Orphan` leaves them.",
        empty=None,
    )
    depends_on: tuple[meta.DependencyReference, ...] = f(
        "Kustomizations that must be ready before this one is reconciled.", empty=tuple
    )
    force: bool = f(
        "Whether to recreate an object whose update is refused because an immutable field changed.",
        default=False,
    )
    health_check_exprs: tuple[meta.CustomHealthCheck, ...] = f(
        "CEL expressions that assess the health of custom resources by kind; used only when "
        "`wait` or `healthChecks` is set.",
        empty=tuple,
    )
    health_checks: tuple[meta.NamespacedObjectKindReference, ...] = f(
        "Objects that must become ready before the Kustomization is ready (ignored when `wait` is true).",
        empty=tuple,
    )
    ignore: tuple[IgnoreRule, ...] = f(
        "Fields of the applied objects that drift detection and apply leave alone.", empty=tuple
    )
    ignore_missing_components: bool = f(
        "Whether to drop `components` paths missing from the source instead of failing the build.",
        empty=False,
    )
    images: tuple[meta.Image, ...] = f(
        "Image names, tags or digests to rewrite in the built manifests.", empty=tuple
    )
    interval: str = f(
        "How often the Kustomization is reconciled (approximately: some jitter is added).",
        pattern=meta.DURATION,
    )
    kube_config: meta.KubeConfigReference | None = f(
        "The remote cluster to apply to, instead of the controller's own; combined with "
        "`serviceAccountName`, that account is impersonated on the remote cluster.",
        empty=None,
    )
    name_prefix: str | None = f(
        "A prefix added to the names of all applied objects.", empty=None, max_length=200, min_length=1
    )
    name_suffix: str | None = f(
        "A suffix added to the names of all applied objects.", empty=None, max_length=200, min_length=1
    )
    patches: tuple[meta.Patch, ...] = f(
        "Strategic merge or JSON 6902 patches applied to the built objects they target.",
        empty=tuple,
    )
    path: str | None = f(
        "Directory in the source holding the kustomization.yaml or plain manifests; the "
        "source's root when omitted.",
        empty=None,
    )
    post_build: PostBuild | None = f(
        "Variable substitution in the built manifests before they are applied.", empty=None
    )
    prune: bool = f("Whether objects applied before but absent from the current build are deleted.")
    retry_interval: str | None = f(
        "How soon a failed reconciliation is retried; `interval` when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )
    service_account_name: str | None = f(
        "A service account, in the Kustomization's namespace, to impersonate when applying.",
        empty=None,
    )
    source_ref: CrossNamespaceSourceReference = f("The source whose artifact holds the manifests.")
    suspend: bool = f(
        "Whether reconciliation is suspended (a reconciliation under way finishes).", empty=False
    )
    target_namespace: str | None = f(
        "The namespace set on every namespaced object of the build, overriding the kustomization.yaml's.",
        empty=None,
        max_length=63,
        min_length=1,
    )
    timeout: str | None = f(
        "How long building, applying and health checking may take; when omitted, `interval` "
        "less 30s (at least 30s).",
        empty=None,
        pattern=meta.DURATION,
    )
    wait: bool = f(
        "Whether to wait for every applied object to become ready (`healthChecks` is then ignored).",
        empty=False,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceRef:
    """One applied object in the inventory."""

    id: str = f("The object's identity, `<namespace>_<name>_<group>_<kind>`.")
    v: str = f("The API version of the object's kind.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceInventory:
    """The objects the Kustomization last applied successfully (what pruning compares against)."""

    entries: tuple[ResourceRef, ...] = f("The applied objects.")


@dataclass(frozen=True, slots=True, kw_only=True)
class KustomizationStatus:
    """What the kustomize-controller last observed and applied."""

    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)
    history: tuple[meta.Snapshot, ...] = f(meta.HISTORY_DOC, empty=tuple)
    inventory: ResourceInventory | None = f(
        "The objects last applied successfully; absent before the first successful apply.",
        empty=None,
    )
    last_applied_origin_revision: str | None = f(
        "The origin revision (such as the OCI `org.opencontainers.image.revision` annotation) of "
        "the artifact last applied successfully.",
        empty=None,
    )
    last_applied_revision: str | None = f(
        "The revision of the source artifact last applied successfully.", empty=None
    )
    last_attempted_revision: str | None = f(
        "The revision of the source artifact of the last reconciliation attempt.", empty=None
    )
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_generation: int | None = f(
        "The .metadata.generation the controller last reconciled.", empty=None
    )


KUSTOMIZATION = declare.Kind(
    GROUP,
    "Kustomization",
    "kustomizations",
    ("ks",),
    ("all", "fluxcd", "fluxcd-appliers"),
    versions=(
        declare.Version(
            "v1",
            "A Kustomization builds the manifests of a Flux source with kustomize and applies "
            "them to the cluster, pruning and health checking what it applied.",
            KustomizationSpec,
            KustomizationStatus,
            (declare.AGE, declare.READY, declare.STATUS),
            storage=True,
            deprecation=None,
        ),
    ),
    component="kustomize-controller",
    annotations={"kustomize.toolkit.fluxcd.io/substitute": "disabled"},
)

KINDS: tuple[declare.Kind, ...] = (KUSTOMIZATION,)
