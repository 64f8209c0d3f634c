"""The source-watcher API: the ArtifactGenerator kind, source.extensions.fluxcd.io/v1beta1.

Declares the ArtifactGenerator's spec (the Flux sources it reads, the ExternalArtifacts it
composes from them by copy operations, optionally one set per directory a path pattern matches)
and its status (the ExternalArtifacts generated and a digest of the sources observed).

Provenance: fluxcd/source-watcher api/v1beta1/artifactgenerator_types.go and the generated CRD
config/crd/bases/source.extensions.fluxcd.io_artifactgenerators.yaml
(docs/spec/v1beta1/artifactgenerators.md for the meaning); the names, markers and CEL rule are
Flux's, the descriptions our own.

Callers: the source-watcher simulation reads specs with `declare.parse(ArtifactGeneratorSpec,
...)`; `crds` generates the CRD from `ARTIFACTGENERATOR`. Pure declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_sim.model import flux
from gitops_sim.model.fluxapi import declare, meta
from gitops_sim.model.fluxapi.declare import f

GROUP = flux.SOURCE_EXTENSIONS_GROUP

# `@<alias>/<path>`: a path inside the source with that alias.
ALIAS_PATH = r"^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)/(.*)$"
# `@<alias>`: the source with that alias.
ALIAS = r"^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)$"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommonMetadata:
    """Labels and annotations set on every ExternalArtifact the generator creates."""

    annotations: dict[str, str] | None = f(
        "Annotations added to every generated ExternalArtifact, replacing any with the same key.",
        empty=None,
    )
    labels: dict[str, str] | None = f(
        "Labels added to every generated ExternalArtifact, replacing any with the same key.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyOperation:
    """Files copied from a source into the generated artifact, `cp`-like."""

    exclude: tuple[str, ...] = f(
        "Glob patterns of files and directories matched by `from` to leave out, relative to the "
        "source root or to the non-glob prefix of `from`; a pattern without `/` matches file "
        "names at any depth.",
        empty=tuple,
        max_items=100,
    )
    from_: str = f(
        "What to copy: `@<alias>/<glob>`, a file, directory or glob in the source with that "
        "alias (with pathPattern, `{capture}` placeholders may appear).",
        json="from",
        max_length=1024,
        min_length=1,
        pattern=ALIAS_PATH,
    )
    strategy: Literal["Overwrite", "Merge", "Extract"] | None = f(
        "How files are written: `Overwrite` (the default) replaces existing files, `Merge` merges "
        "YAML into the existing file as Helm merges values files, `Extract` unpacks .tar.gz/.tgz "
        "archives.",
        empty=None,
    )
    to: str = f(
        "Where to copy to: `@artifact/<path>`, a path in the generated artifact (a trailing `/` "
        "means into that directory; with pathPattern, `{capture}` placeholders may appear).",
        max_length=1024,
        min_length=1,
        pattern=r"^@(artifact)/(.*)$",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputArtifact:
    """One ExternalArtifact to generate (a template, one per matched directory, with pathPattern)."""

    copy: tuple[CopyOperation, ...] = f(
        "The copy operations that fill the artifact, run in order (later ones overwrite earlier "
        "ones' files).",
        min_items=1,
    )
    name: str = f(
        "Name of the ExternalArtifact, unique in the generator; with pathPattern it may hold "
        "`{capture}` placeholders.",
        max_length=253,
        min_length=1,
    )
    origin_revision: str | None = f(
        "`@<alias>`: the source whose origin revision (a Git commit, say) is recorded in the "
        "artifact's `org.opencontainers.image.revision` metadata, when it has one.",
        empty=None,
        max_length=64,
        pattern=ALIAS,
    )
    revision: str | None = f(
        "`@<alias>`: the source whose revision the artifact takes; when omitted, "
        "`latest@<digest>` of the artifact's content.",
        empty=None,
        max_length=64,
        pattern=ALIAS,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceReference:
    """A Flux source the generator reads, and the alias copy operations name it by."""

    alias: str = f(
        "The name copy operations use for this source (`@<alias>`), unique in the generator.",
        max_length=63,
        pattern=r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$",
    )
    kind: Literal["Bucket", "GitRepository", "OCIRepository", "HelmChart", "ExternalArtifact"] = f(
        "Kind of the source."
    )
    name: str = f("Name of the source.", max_length=253, pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    namespace: str | None = f(
        "Namespace of the source; the generator's when omitted.",
        empty=None,
        max_length=63,
        min_length=1,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    )


@declare.rules(
    declare.Rule(
        "has(self.pathPattern) && size(self.pathPattern) > 0 || self.artifacts.all(a, "
        r"a.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'))",
        "artifact names must be valid Kubernetes object names when pathPattern is not set",
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactGeneratorSpec:
    """The sources to read and the ExternalArtifacts to generate from them."""

    artifacts: tuple[OutputArtifact, ...] = f(
        "The ExternalArtifacts to generate.", max_items=1000, min_items=1
    )
    common_metadata: CommonMetadata | None = f(
        "Labels and annotations set on every generated ExternalArtifact.", empty=None
    )
    path_pattern: str | None = f(
        "`@<alias>/<pattern>`: generate the artifacts once per directory of that source the "
        "pattern matches, its `{capture}` segments filling the artifacts' placeholders.",
        empty=None,
        max_length=1024,
        pattern=ALIAS_PATH,
    )
    sources: tuple[SourceReference, ...] = f(
        "The Flux sources the artifacts are composed from.", max_items=1000, min_items=1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalArtifactReference:
    """One ExternalArtifact the generator created, and the digest of its content."""

    digest: str = f("Digest of the artifact's content.")
    filename: str = f("File name of the artifact tarball.")
    name: str = f("Name of the ExternalArtifact.")
    namespace: str = f("Namespace of the ExternalArtifact.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactGeneratorStatus:
    """What source-watcher last observed and generated."""

    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)
    inventory: tuple[ExternalArtifactReference, ...] = f(
        "The ExternalArtifacts generated, so those no longer wanted can be deleted.", empty=tuple
    )
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_sources_digest: str | None = f(
        "A digest of the state (digest, revision, URL) of all the sources last observed.", empty=None
    )


ARTIFACTGENERATOR = declare.Kind(
    GROUP,
    "ArtifactGenerator",
    "artifactgenerators",
    ("ag",),
    ("all", "fluxcd", "fluxcd-sources"),
    versions=(
        declare.Version(
            "v1beta1",
            "An ArtifactGenerator composes ExternalArtifacts from the artifacts of Flux sources: "
            "several sources merged into one, or one source split into many.",
            ArtifactGeneratorSpec,
            ArtifactGeneratorStatus,
            (declare.AGE, declare.READY, declare.STATUS),
            storage=True,
            deprecation=None,
            status_default=None,
        ),
    ),
    component="source-watcher",
    annotations={"kustomize.toolkit.fluxcd.io/substitute": "disabled"},
)

KINDS: tuple[declare.Kind, ...] = (ARTIFACTGENERATOR,)
