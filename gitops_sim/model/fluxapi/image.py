"""The image automation kinds of Flux 2.10 (image.toolkit.fluxcd.io/v1): ImageRepository,
ImagePolicy and ImageUpdateAutomation.

Provenance: fluxcd/image-reflector-controller `api/v1/imagerepository_types.go` and
`api/v1/imagepolicy_types.go` (ImageRepository, ImagePolicy), fluxcd/image-automation-controller
`api/v1/imageupdateautomation_types.go`, `api/v1/git.go` and `api/v1/reference.go`
(ImageUpdateAutomation), fluxcd/source-controller `api/v1/gitrepository_types.go`
(GitRepositoryRef, the checkout reference) and Kubernetes' `metav1.LabelSelector` (the policy
selector). The field names, markers, defaults and CEL rules are theirs, checked against the
generated CRDs in `config/crd/bases`; the descriptions are our own words. v1beta2 is not
declared: Flux 2.9 stopped serving it.

Callers: the image controllers read specs with `declare.parse`; `crds` generates the CRDs from
`KINDS`. Pure declarations, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_sim.model.fluxapi import declare, meta
from gitops_sim.model.fluxapi.declare import f

GROUP = "image.toolkit.fluxcd.io"
CATEGORIES = ("all", "fluxcd", "fluxcd-images")

# ImageRepository's timeout allows no hours, unlike every other Flux duration.
_TIMEOUT = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"


# ---------------------------------------------------------------------------------------------
# Shared


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRef:
    """One image as a policy selected it: its name, tag and, when reflected, its digest."""

    digest: str | None = f("The image's digest, when the controller recorded one.", empty=None)
    name: str = f("The image's name without tag or digest.")
    tag: str = f("The selected tag.")


# ---------------------------------------------------------------------------------------------
# ImageRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRepositorySpec:
    """Which image repository to scan for tags, how often, and how to authenticate to its registry."""

    access_from: meta.AccessFrom | None = f(
        "Namespaces whose ImagePolicies may refer to this ImageRepository from another namespace.",
        empty=None,
    )
    cert_secret_ref: meta.LocalObjectReference | None = f(
        "A Secret (type Opaque or kubernetes.io/tls) with a client certificate and key "
        "(`tls.crt`, `tls.key`) and/or a CA certificate (`ca.crt`) for the TLS connection to the "
        "registry.",
        empty=None,
    )
    exclusion_list: tuple[str, ...] = f(
        "Regular expressions; tags matching any of them are not stored. By default signature tags "
        "(`.sig`) are left out.",
        default=(r"^.*\.sig$",),
        max_items=25,
    )
    image: str = f("The image repository to scan, such as `ghcr.io/stefanprodan/podinfo`.")
    insecure: bool = f("Whether to talk plain HTTP to the registry instead of HTTPS.", empty=False)
    interval: str = f("How long to wait between two scans of the repository.", pattern=meta.DURATION)
    provider: Literal["generic", "aws", "azure", "gcp"] = f(
        "Who supplies the registry credentials: a cloud provider's workload identity (aws, azure, "
        "gcp), or `generic` for secretRef (or anonymous access).",
        default="generic",
    )
    proxy_secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with the address (and optionally credentials) of the proxy to reach the registry through.",
        empty=None,
    )
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret of type kubernetes.io/dockerconfigjson with the credentials for the registry "
        "(as `kubectl create secret docker-registry` makes).",
        empty=None,
    )
    service_account_name: str | None = f(
        "A ServiceAccount whose image pull secrets authenticate the scan.", empty=None, max_length=253
    )
    suspend: bool = f("Whether to stop scanning; a scan already under way finishes.", empty=False)
    timeout: str | None = f(
        "How long one scan may take; the interval when omitted.", empty=None, pattern=_TIMEOUT
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """What the last scan of the repository found."""

    latest_tags: tuple[str, ...] | None = f(
        "A sample of the tags found: the first ten in descending alphabetical order.", empty=None
    )
    revision: str | None = f("A checksum of the scanned tags, stable while they do not change.", empty=None)
    scan_time: str | None = f("When the scan ran.", empty=None, format=meta.DATE_TIME)
    tag_count: int = f("How many tags the scan found.", format="")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRepositoryStatus:
    """What the image-reflector-controller last observed of the repository."""

    canonical_image_name: str | None = f(
        "The image name with its implied parts spelled out (`docker.io/library/alpine` for `alpine`).",
        empty=None,
    )
    conditions: tuple[meta.Condition, ...] | None = f(meta.CONDITIONS_DOC, empty=None)
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    last_scan_result: ScanResult | None = f("The outcome of the last successful scan.", empty=None)
    observed_exclusion_list: tuple[str, ...] | None = f(
        "The exclusion list the last scan was made with.", empty=None
    )
    observed_generation: int | None = f("The generation of the spec last reconciled.", empty=None)


IMAGEREPOSITORY = declare.Kind(
    GROUP,
    "ImageRepository",
    "imagerepositories",
    ("imgrepo", "imagerepo"),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "An image repository the image-reflector-controller scans for tags at an interval, "
            "for ImagePolicies to choose from.",
            ImageRepositorySpec,
            ImageRepositoryStatus,
            (
                declare.Column("Image", ".spec.image"),
                declare.Column("Tags", ".status.lastScanResult.tagCount"),
                declare.READY,
                declare.STATUS,
                declare.Column("Last scan", ".status.lastScanResult.scanTime", priority=1),
                declare.AGE,
            ),
            storage=True,
            deprecation=None,
        ),
    ),
    component="image-reflector-controller",
)


# ---------------------------------------------------------------------------------------------
# ImagePolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class SemVerPolicy:
    """Choose the highest tag that is a semantic version within a range."""

    range: str = f("A semver range (such as `>=1.0.0 <2.0.0` or `5.1.x`) the tags must fall in.")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlphabeticalPolicy:
    """Choose a tag by alphabetical order."""

    order: Literal["asc", "desc"] = f(
        "`asc` chooses the last tag in alphabetical order, `desc` the first.", default="asc"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NumericalPolicy:
    """Choose a tag by numerical order (the tags must be numbers)."""

    order: Literal["asc", "desc"] = f("`asc` chooses the highest number, `desc` the lowest.", default="asc")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImagePolicyChoice:
    """How the latest tag is chosen; set exactly one of the orderings."""

    alphabetical: AlphabeticalPolicy | None = f("Order the tags alphabetically.", empty=None)
    numerical: NumericalPolicy | None = f("Order the tags as numbers.", empty=None)
    semver: SemVerPolicy | None = f("Order the tags as semantic versions within a range.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class TagFilter:
    """Which tags take part in the choice, and what part of each is compared."""

    extract: str | None = f(
        "What to compare instead of the whole tag, built from the pattern's capture groups (such as `$ts`).",
        empty=None,
    )
    pattern: str | None = f("A regular expression the tags must match to be considered.", empty=None)


@declare.rules(
    declare.Rule(
        "!has(self.interval) || "
        "(has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')",
        "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
    ),
    declare.Rule(
        "has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'",
        "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
    ),
)
@dataclass(frozen=True, slots=True, kw_only=True)
class ImagePolicySpec:
    """Which ImageRepository's tags to choose from, which of them to consider, and how to choose
    the latest."""

    digest_reflection_policy: Literal["Always", "IfNotPresent", "Never"] = f(
        "When the digest of the chosen image is written to `.status.latestRef.digest`: `Never`, "
        "`IfNotPresent` (once, while the image stays the same) or `Always` (looked up again every "
        "interval).",
        default="Never",
    )
    filter_tags: TagFilter | None = f(
        "Consider only the tags matching a pattern (all tags when omitted).", empty=None
    )
    image_repository_ref: meta.NamespacedObjectReference = f(
        "The ImageRepository whose scanned tags are chosen from (another namespace's only if its "
        "accessFrom allows it)."
    )
    interval: str | None = f(
        "How often the digest of the chosen tag is looked up again; only with "
        "digestReflectionPolicy Always, and required then.",
        empty=None,
        pattern=meta.DURATION,
    )
    policy: ImagePolicyChoice = f("How the latest of the considered tags is chosen.")
    suspend: bool = f(
        "Whether to stop reconciling the policy; a reconciliation under way finishes.", empty=False
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ImagePolicyStatus:
    """The image the policy last chose."""

    conditions: tuple[meta.Condition, ...] | None = f(meta.CONDITIONS_DOC, empty=None)
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    latest_ref: ImageRef | None = f("The image the policy currently chooses.", empty=None)
    observed_generation: int | None = f("The generation of the spec last reconciled.", empty=None)
    observed_previous_ref: ImageRef | None = f(
        "The image chosen before latestRef, to tell when the choice changed.", empty=None
    )


IMAGEPOLICY = declare.Kind(
    GROUP,
    "ImagePolicy",
    "imagepolicies",
    ("imgpol", "imagepol"),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "A rule choosing the latest image among the tags an ImageRepository scanned.",
            ImagePolicySpec,
            ImagePolicyStatus,
            (
                declare.Column("Image", ".status.latestRef.name"),
                declare.Column("Tag", ".status.latestRef.tag"),
                declare.READY,
                declare.STATUS,
                declare.AGE,
            ),
            storage=True,
            deprecation=None,
        ),
    ),
    component="image-reflector-controller",
)


# ---------------------------------------------------------------------------------------------
# ImageUpdateAutomation


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossNamespaceSourceReference:
    """The source holding the files to update, possibly in another namespace."""

    api_version: str | None = f("API version of the source.", empty=None)
    kind: Literal["GitRepository"] = f(
        "Kind of the source; only GitRepository.", default="GitRepository", required=True
    )
    name: str = f("Name of the source.")
    namespace: str | None = f("Namespace of the source; the automation's when omitted.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitRepositoryRef:
    """A Git reference to check out (source-controller's GitRepository `ref`)."""

    branch: str | None = f("The branch to check out (`master` when nothing else is set).", empty=None)
    commit: str | None = f(
        "A commit SHA to check out; wins over every other field (with branch: the branch is "
        "cloned shallowly and must contain it).",
        empty=None,
    )
    name: str | None = f(
        "A full Git reference name, such as `refs/heads/main` or `refs/pull/420/head`; wins over "
        "branch, tag and semver.",
        empty=None,
    )
    semver: str | None = f(
        "A semver range; the highest matching tag is checked out. Wins over tag.", empty=None
    )
    tag: str | None = f("The tag to check out; wins over branch.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitCheckoutSpec:
    """What to clone before making changes."""

    ref: GitRepositoryRef = f("The branch, tag or commit to clone.")


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitUser:
    """Who the commits are attributed to."""

    email: str = f("The author's email address.")
    name: str | None = f("The author's name.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKey:
    """A key in a Secret the automation signs its commits with."""

    secret_ref: meta.LocalObjectReference = f(
        "A Secret in the automation's namespace with the key: `git.asc` (an armored OpenPGP key "
        "pair) and optional `passphrase` for gpg; `identity` (an SSH private key) and optional "
        "`password` for ssh."
    )
    type: Literal["gpg", "ssh"] | None = f(
        "The kind of key in the Secret; the controller assumes `gpg` when omitted.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitSpec:
    """How the automation's commits are written."""

    author: CommitUser = f("The commits' author.")
    message_template: str | None = f(
        "A Go template for the commit message, given the changes made (use `Changed`; the old "
        "`Updated` field is gone).",
        empty=None,
    )
    message_template_values: dict[str, str] | None = f(
        "Extra values the message template can use (`.Values`).", empty=None
    )
    signing_key: SigningKey | None = f("Sign the commits with this OpenPGP or SSH key.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PushSpec:
    """Where the automation's commits are pushed."""

    branch: str | None = f(
        "The branch to push to, created from the checked out one if it does not exist.", empty=None
    )
    options: dict[str, str] | None = f("Git push options sent to the server (`git push -o`).", empty=None)
    refspec: str | None = f(
        "A Git refspec to push with (as well as to branch, when both are given).", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GitSpec:
    """How the Git repository is checked out, committed to and pushed."""

    checkout: GitCheckoutSpec | None = f(
        "What to clone; the GitRepository's own ref (or its default) when omitted.", empty=None
    )
    commit: CommitSpec = f("How commits are made.")
    push: PushSpec | None = f(
        "Where commits are pushed; back to the checked out branch when omitted.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateStrategy:
    """How files in the repository are updated."""

    path: str | None = f(
        "The directory, relative to the repository's root, whose manifests are updated; the root "
        "when omitted.",
        empty=None,
    )
    strategy: Literal["Setters"] = f(
        "The update strategy: `Setters` rewrites the fields marked with image policy comments.",
        default="Setters",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSelectorRequirement:
    """One label selector expression: a key, an operator and values (Kubernetes
    `metav1.LabelSelectorRequirement`)."""

    key: str = f("The label key the expression is about.")
    operator: str = f("How the key relates to the values: In, NotIn, Exists or DoesNotExist.")
    values: tuple[str, ...] | None = f(
        "The values for In and NotIn (non-empty); empty for Exists and DoesNotExist.",
        empty=None,
        list_type="atomic",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSelector:
    """A label query over objects (Kubernetes `metav1.LabelSelector`); all its terms must hold,
    and an empty selector matches everything."""

    match_expressions: tuple[LabelSelectorRequirement, ...] | None = f(
        "Expressions the labels must satisfy.", empty=None, list_type="atomic"
    )
    match_labels: dict[str, str] | None = f("Labels the object must carry with these values.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageUpdateAutomationSpec:
    """Which Git repository to update from the namespace's ImagePolicies, how often, and how to
    commit and push the changes."""

    git: GitSpec | None = f(
        "How to check out, commit and push; needed in practice, since Git is the only kind of source.",
        empty=None,
    )
    interval: str = f("The least time between two runs of the automation.", pattern=meta.DURATION)
    policy_change_delay: str | None = f(
        "How long to wait after the ImagePolicies' choices change before updating the repository, "
        "so that policies moving together make one commit; no wait when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )
    policy_selector: LabelSelector | None = f(
        "Which of the namespace's ImagePolicies to apply, by label; all of them when omitted.",
        empty=None,
        map_type="atomic",
    )
    source_ref: CrossNamespaceSourceReference = f("The GitRepository to update.")
    suspend: bool = f("Whether to stop running the automation until this is unset.", empty=False)
    update: UpdateStrategy = f(
        "How the files are updated; the Setters strategy at the root when omitted.",
        default=UpdateStrategy(strategy="Setters"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageUpdateAutomationStatus:
    """What the image-automation-controller last did for the automation."""

    conditions: tuple[meta.Condition, ...] | None = f(meta.CONDITIONS_DOC, empty=None)
    last_automation_run_time: str | None = f(
        "When the automation last ran to completion, whether or not it changed anything.",
        empty=None,
        format=meta.DATE_TIME,
    )
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    last_push_commit: str | None = f("The SHA-1 of the last commit the automation pushed.", empty=None)
    last_push_time: str | None = f(
        "When the automation last pushed a change.", empty=None, format=meta.DATE_TIME
    )
    observed_generation: int | None = f("The generation of the spec last reconciled.", empty=None)
    observed_policies: dict[str, ImageRef] | None = f(
        "The ImagePolicies the last run applied, by name, with the image each chose.", empty=None
    )
    observed_source_revision: str | None = f(
        "The source revision last seen, to tell when the source changed.", empty=None
    )


IMAGEUPDATEAUTOMATION = declare.Kind(
    GROUP,
    "ImageUpdateAutomation",
    "imageupdateautomations",
    ("iua", "imgupd", "imgauto"),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "An automation that rewrites image references in a Git repository to the images "
            "ImagePolicies choose, then commits and pushes the change.",
            ImageUpdateAutomationSpec,
            ImageUpdateAutomationStatus,
            (
                declare.READY,
                declare.STATUS,
                declare.Column("Last run", ".status.lastAutomationRunTime", priority=1),
                declare.AGE,
            ),
            storage=True,
            deprecation=None,
        ),
    ),
    component="image-automation-controller",
    annotations={"kustomize.toolkit.fluxcd.io/substitute": "disabled"},
)


KINDS: tuple[declare.Kind, ...] = (IMAGEREPOSITORY, IMAGEPOLICY, IMAGEUPDATEAUTOMATION)
