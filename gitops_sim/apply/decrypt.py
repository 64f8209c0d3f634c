"""kustomize-controller's SOPS decryptor: the keys of `spec.decryption`, the files kustomize reads
and the objects it builds, decrypted as Flux decrypts them.

What it does, in the order a build calls it:
- `Decryptor.load(decryption, namespace, secrets)` imports the keys of `spec.decryption.secretRef`
  (the Secret must exist: its absence fails every build, encrypted content or not, with the API's
  `secrets "<name>" not found`); each data entry ending `.agekey` holds age identities (one a
  line), a bad one is `failed to import '<key>' data from sops decryption Secret '<ns>/<name>': …`;
  `.asc` (PGP), `sops.vault-token`, `sops.aws-kms`, `sops.azure-kv` and `sops.gcp-kms` entries are
  accepted and unused.
- `decrypt_sources(files, path)` walks the kustomization at `path` and those it includes
  (`resources`, `components`) and decrypts, in place of the file, every `secretGenerator`
  `files`/`envs` source (envs as dotenv unless their extension says otherwise) and every local
  `patches[].path`, in the format its extension names, when the file holds that format's SOPS
  marker (`mac: ENC[`, `"mac": "ENC[`, `sops_mac=ENC[`); errors read `error decrypting
  sources: …`, paths shown relative to the artifact (`lstat <path>: no such file or directory`).
- `decrypt_resource(obj)` decrypts a built object with a `sops.mac` (any kind; as JSON), or, in a
  Secret without one, each `data` entry whose decoded value holds a SOPS marker (written back in
  the format its key's extension names); an object annotated
  `kustomize.toolkit.fluxcd.io/decrypt: disabled` is left alone. Errors read `failed to decrypt
  and format '<ns>/<name>' Secret data: …`, which the render wraps in `decryption failed for
  '<Kind.version.group>/<name>': …` (BuildFailed).

The messages are kustomize-controller's (`internal/decryptor`), the reasons sops' own user errors
(`cannot get sops data key: Failed to get the data key required to decrypt the SOPS file.` and
its per-key report). As in Flux, the MAC is not checked (kustomize's build changes the objects,
so it would never match): a value changed in clear is applied as it is, a tampered ciphertext
fails GCM's authentication.

Fidelity and known gaps: age keys only. A file whose master keys are PGP, cloud KMS or Vault
keys fails with a message saying they are not simulated; INI files likewise. With no age key at
all, the message is the one sops gives inside the controller's Pod (it looks for keys in the
environment and under `HOME=/`). The controller's `--sops-age-secret` global key and
`serviceAccountName` are not simulated.

Provenance: behaviour of kustomize-controller `internal/decryptor/decryptor.go` (ImportKeys,
DecryptSources, DecryptResource, SopsDecryptWithFormat) and `internal/sops/keyservice`; our own
code. Callers: `apply.render`. Pure over its inputs: never writes anything.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from gitops_sim.model import age, archives, flux, objects, sops, yamlsafe
from gitops_sim.model.fluxapi import kustomize as api

PROVIDER = "sops"
AGE_EXT = ".agekey"
MAX_FILE_SIZE = 5 << 20
DECRYPT_ANNOTATION = f"{flux.KUSTOMIZE_GROUP}/decrypt"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MARKERS: tuple[tuple[sops.Format, bytes], ...] = (
    ("json", b'"mac": "ENC['),
    ("dotenv", b"sops_mac=ENC["),
    ("ini", b"[sops]"),
    ("yaml", b"mac: ENC["),
)
"""The bytes that show a file or a Secret value is SOPS-encrypted, per format (`binary` is a JSON
envelope); Flux tries them in map order, so only formats that cannot both match are distinct."""
NO_AGE_IDENTITIES = (
    "failed to load age identities. Did not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', "
    "'SOPS_AGE_SSH_PRIVATE_KEY_CMD', '/.ssh/id_ed25519', '/.ssh/id_rsa', 'SOPS_AGE_KEY', "
    "'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', and '/.config/sops/age/keys.txt'."
)
"""sops' error for an age key with no identities, in kustomize-controller's Pod (no SOPS_AGE_*
variables, HOME=/)."""

Secrets = Callable[[str, str], Mapping[str, str]]
"""The data of Secret `namespace/name`, decoded; raises `errors.NotFound` (its message is shown)."""


class DecryptError(Exception):
    """A decryption failure; `message` is what kustomize-controller's build returns."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decrypt_with_format(keys: sops.Keys, data: bytes, fmt_in: sops.Format, fmt_out: sops.Format) -> bytes:
    """kustomize-controller's `SopsDecryptWithFormat`: no MAC check, its messages."""
    name_in, name_out = sops.NAMES[fmt_in], sops.NAMES[fmt_out]
    try:
        tree = sops.load_encrypted(data, fmt_in)
    except sops.SopsError as exc:
        raise DecryptError(f"failed to load encrypted {name_in} data: {exc.shown}") from exc
    try:
        key = sops.data_key(tree.metadata, keys)
    except sops.SopsError as exc:
        raise DecryptError(f"cannot get sops data key: {exc.shown}") from exc
    try:
        sops.decrypt_tree(tree.branches, tree.metadata.rules, key)
    except sops.SopsError as exc:
        raise DecryptError(f"error decrypting sops tree: {_redacted(exc.shown)}") from exc
    try:
        return sops.emit_plain(tree.branches, fmt_out)
    except sops.SopsError as exc:
        raise DecryptError(
            f"failed to emit encrypted {name_in} file as decrypted {name_out}: {exc.shown}"
        ) from exc


def _redacted(message: str) -> str:
    """kustomize-controller's `safeDecrypt`: a value that is not sops' format is not shown."""
    head, found, _ = message.partition("Input string ")
    if found and " does not match sops' data format" in message:
        return f"{head}Input string <redacted> does not match sops' data format"
    return message


def format_for_path(path: str) -> sops.Format:
    """kustomize-controller's `formatForPath`: `.dockerconfigjson` is JSON, else sops' rule."""
    if path.endswith(".dockerconfigjson"):
        return "json"
    return sops.format_for_path(path)


def detect_format(data: bytes) -> sops.Format | None:
    return next((fmt for fmt, marker in MARKERS if marker in data), None)


@dataclass(frozen=True, slots=True)
class Decryptor:
    """The keys one Kustomization's build decrypts with."""

    keys: sops.Keys

    @classmethod
    def load(cls, decryption: api.Decryption, namespace: str, secrets: Secrets) -> Decryptor:
        """`ImportKeys`: the Secret's `.agekey` entries (sorted by key; Flux's order is a Go map's)."""
        identities: list[age.Identity] = []
        if decryption.secret_ref is not None:
            name = decryption.secret_ref.name
            data = secrets(namespace, name)  # NotFound propagates: Flux returns it as it is
            for key in sorted(data):
                if posixpath.splitext(key)[1] != AGE_EXT:
                    continue
                try:
                    identities.extend(age.parse_identities(data[key]))
                except age.AgeError as exc:
                    raise DecryptError(
                        f"failed to import '{key}' data from {PROVIDER} decryption Secret "
                        f"'{namespace}/{name}': failed to parse and add to age identities: {exc}"
                    ) from exc
        return cls(sops.Keys(tuple(identities), no_age_identities=NO_AGE_IDENTITIES))

    def decrypt_resource(self, obj: objects.RawObject) -> objects.RawObject | None:
        """`DecryptResource`: the object decrypted, or None when there is nothing to do."""
        if str(objects.annotations_of(obj).get(DECRYPT_ANNOTATION, "")).lower() == "disabled":
            return None
        meta = obj.get("metadata") or {}
        where = f"'{meta.get('namespace') or ''}/{meta.get('name') or ''}'"
        marker = obj.get("sops")
        if isinstance(marker, dict) and marker and marker.get("mac") not in (None, {}, []):
            branch = sops.to_branch(obj)
            try:
                decrypted = self._decrypt_tree(branch)
            except DecryptError as exc:
                raise DecryptError(
                    f"failed to decrypt and format {where} {obj.get('kind')} data: {exc}"
                ) from exc
            out = sops.to_plain(decrypted)
            assert isinstance(out, dict)
            return out
        if obj.get("kind") != "Secret":
            return None
        data = obj.get("data")
        if not isinstance(data, dict):
            return obj
        changed = dict(data)
        for key in sorted(data):
            try:
                raw = base64.b64decode(str(data[key]), validate=True)
            except (binascii.Error, ValueError):
                continue  # kustomize-controller leaves it for the apply to refuse
            fmt = detect_format(raw)
            if fmt is None:
                continue
            try:
                plain = decrypt_with_format(self.keys, raw, fmt, format_for_path(key))
            except DecryptError as exc:
                raise DecryptError(
                    f"failed to decrypt and format {where} Secret field '{key}': {exc}"
                ) from exc
            changed[key] = base64.b64encode(plain).decode()
        out = objects.deep_copy(obj)
        out["data"] = changed
        return out

    def _decrypt_tree(self, branch: sops.Branch) -> sops.Branch:
        """SopsDecryptWithFormat(JSON, JSON) on an object already parsed."""
        try:
            tree = sops.extract([branch], flat=False)
        except sops.SopsError as exc:
            raise DecryptError(f"failed to load encrypted JSON data: {exc.shown}") from exc
        try:
            key = sops.data_key(tree.metadata, self.keys)
        except sops.SopsError as exc:
            raise DecryptError(f"cannot get sops data key: {exc.shown}") from exc
        try:
            sops.decrypt_tree(tree.branches, tree.metadata.rules, key)
        except sops.SopsError as exc:
            raise DecryptError(f"error decrypting sops tree: {_redacted(exc.shown)}") from exc
        return tree.branches[0]

    def decrypt_sources(self, files: Mapping[str, bytes], path: str) -> Mapping[str, bytes]:
        """`DecryptSources`: the artifact's files with the kustomizations' generator sources and
        patch files decrypted (`files` itself when none was encrypted). Raises
        `DecryptError("error decrypting sources: …")`."""
        out = dict(files)
        walker = _Walker(self, out)
        try:
            walker.visit_dir(archives.secure_join(path), top=True)
        except DecryptError as exc:
            raise DecryptError(f"error decrypting sources: {exc}") from exc
        return out if any(out[k] is not files[k] for k in out) else files


def _shown(path: str) -> str:
    return path or "."


class _Ignored(Exception):
    """An include that is no folder (a file, a URL, a missing path): skipped, as in Flux."""


@dataclass(slots=True)
class _Walker:
    decryptor: Decryptor
    files: dict[str, bytes]
    visited: set[str] | None = None
    decrypted: set[str] | None = None

    def _is_dir(self, path: str) -> bool:
        prefix = f"{path}/" if path else ""
        return any(name.startswith(prefix) for name in self.files)

    def visit_dir(self, path: str, *, top: bool = False) -> None:
        if self.visited is None:
            self.visited, self.decrypted = set(), set()
        if path in self.visited:
            return
        self.visited.add(path)
        if path in self.files:
            raise _Ignored(path)
        if not self._is_dir(path):
            if top:
                return  # the build reports the missing path
            raise _Ignored(path)
        kus = self._kustomization(path, top)
        self._visit(path, kus)
        includes = kus.get("resources") or []
        includes = [*(includes if isinstance(includes, list) else []), *_list(kus.get("components"))]
        for entry in includes:
            if not isinstance(entry, str):
                continue
            target = archives.secure_join(entry if entry.startswith("/") else posixpath.join(path, entry))
            try:
                self.visit_dir(target)
            except _Ignored:
                continue

    def _kustomization(self, path: str, top: bool) -> dict[str, Any]:
        found = [n for n in KUSTOMIZATION_FILES if posixpath.join(path, n) in self.files]
        if len(found) > 1:
            raise DecryptError("found multiple kustomization files")
        if not found:
            if top:  # Flux generated one: every sub-folder with a kustomization is a resource
                return {"resources": self._generated(path)}
            raise DecryptError("no kustomization file found")
        name = posixpath.join(path, found[0])
        try:
            kus = yamlsafe.load(self.files[name])
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise DecryptError(f"failed to unmarshal kustomization file from '{name}': {exc}") from exc
        return kus if isinstance(kus, dict) else {}

    def _generated(self, path: str) -> list[str]:
        prefix = f"{path}/" if path else ""
        folders = set()
        for name in self.files:
            if name.startswith(prefix):
                parts = name[len(prefix) :].split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    folders.add("/".join(parts[:i]))
        out: list[str] = []
        for folder in sorted(folders):
            full = prefix + folder
            if any(posixpath.join(full, n) in self.files for n in KUSTOMIZATION_FILES) and not any(
                folder.startswith(o + "/") for o in out
            ):
                out.append(folder)
        return out

    def _visit(self, path: str, kus: dict[str, Any]) -> None:
        for gen in _list(kus.get("secretGenerator")):
            if not isinstance(gen, dict):
                continue
            for source in _list(gen.get("files")):
                key, _, file = str(source).partition("=")
                self._decrypt(path, file or key, format_for_path(key))
            for env in _list(gen.get("envs")):
                fmt = format_for_path(str(env))
                self._decrypt(path, str(env), "dotenv" if fmt == "binary" else fmt)
        for patch in _list(kus.get("patches")):
            if not isinstance(patch, dict) or not patch.get("path"):
                continue
            target = str(patch["path"])
            if "://" in target and not target.startswith("file://"):
                continue  # a remote patch
            self._decrypt(path, target, format_for_path(target))

    def _decrypt(self, folder: str, source: str, fmt: sops.Format) -> None:
        assert self.decrypted is not None
        target = archives.secure_join(source if source.startswith("/") else posixpath.join(folder, source))
        if target in self.decrypted:
            return
        data = self.files.get(target)
        if data is None:
            if self._is_dir(target):
                raise DecryptError("cannot decrypt irregular file as it has file mode type bits set")
            raise DecryptError(f"lstat {_shown(target)}: no such file or directory")
        if len(data) > MAX_FILE_SIZE:
            raise DecryptError(
                f"cannot decrypt file with size ({len(data)} bytes) exceeding limit ({MAX_FILE_SIZE})"
            )
        marker = dict(MARKERS).get("json" if fmt == "binary" else fmt)
        if marker is not None and marker in data:
            self.files[target] = decrypt_with_format(self.decryptor.keys, data, fmt, fmt)
        self.decrypted.add(target)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
