"""kustomize-controller's decryptor (`apply.decrypt`) over an artifact's files and built objects."""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping

import pytest

from gitops_sim.apply import decrypt
from gitops_sim.cluster import errors
from gitops_sim.model import age, sops
from gitops_sim.model.fluxapi import kustomize as api
from gitops_sim.model.fluxapi import meta

KEY = age.generate(random.Random("decryptor key"))
DECRYPTOR = decrypt.Decryptor(sops.Keys((KEY,), no_age_identities=decrypt.NO_AGE_IDENTITIES))
ENV = b"password=hunter2\n"


DEFAULT = sops.Rules()


def encrypted(data: bytes, fmt: sops.Format, rules: sops.Rules = DEFAULT) -> bytes:
    return sops.encrypt(
        data, fmt, [KEY.recipient], rules=rules, rng=random.Random(data), lastmodified="2024-05-01T10:00:00Z"
    )


def test_env_sources_are_decrypted_in_included_folders_and_components() -> None:
    files = {
        "apps/kustomization.yaml": b"resources: [base]\ncomponents: [../shared]\n",
        "apps/base/kustomization.yaml": b"secretGenerator: [{name: a, envs: [a.env]}]\n",
        "apps/base/a.env": encrypted(ENV, "dotenv"),
        "shared/kustomization.yaml": b"kind: Component\nsecretGenerator: [{name: b, files: [key=b.txt]}]\n",
        "shared/b.txt": encrypted(b"raw", "binary"),
    }
    out = DECRYPTOR.decrypt_sources(files, "./apps")
    assert (out["apps/base/a.env"], out["shared/b.txt"]) == (ENV, b"raw")


def test_files_without_a_sops_marker_are_left_as_they_are() -> None:
    files = {"apps/kustomization.yaml": b"secretGenerator: [{name: a, envs: [a.env]}]\n", "apps/a.env": ENV}
    assert DECRYPTOR.decrypt_sources(files, "apps") is files


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param(
            {"apps/kustomization.yaml": b"secretGenerator: [{name: a, envs: [../missing.env]}]\n"},
            "error decrypting sources: lstat missing.env: no such file or directory",
            id="missing-source",
        ),
        pytest.param(
            {"apps/kustomization.yaml": b"resources: [sub]\n", "apps/sub/cm.yaml": b"kind: ConfigMap\n"},
            "error decrypting sources: no kustomization file found",
            id="folder-without-kustomization",
        ),
        pytest.param(
            {
                "apps/kustomization.yaml": b"secretGenerator: [{name: a, envs: [a.env]}]\n",
                "apps/a.env": encrypted(ENV, "dotenv").replace(b"password=ENC[", b"password=junk[", 1),
            },
            "error decrypting sources: error decrypting sops tree: Error walking tree: "
            "Could not decrypt value: Input string <redacted> does not match sops' data format",
            id="value-not-in-sops-format",
        ),
    ],
)
def test_a_source_that_cannot_be_decrypted_fails_in_flux_words(
    files: Mapping[str, bytes], message: str
) -> None:
    with pytest.raises(decrypt.DecryptError) as caught:
        DECRYPTOR.decrypt_sources(files, "apps")
    assert caught.value.message == message


def test_any_kind_with_sops_metadata_is_decrypted() -> None:
    doc = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {mode: secret}\n"
    obj = sops.to_plain(
        sops.load_plain(encrypted(doc, "yaml", sops.Rules(encrypted_regex="^data$")), "yaml")[0]
    )
    assert DECRYPTOR.decrypt_resource(obj) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"mode": "secret"},
    }


def test_a_dockerconfigjson_entry_is_written_back_as_json() -> None:
    inner = encrypted(b'{"auths": {"ghcr.io": {"auth": "eDp5"}}}', "json")
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "pull", "namespace": "default"},
        "data": {".dockerconfigjson": base64.b64encode(inner).decode(), "plain": "eA=="},
    }
    out = DECRYPTOR.decrypt_resource(obj)
    assert out is not None
    assert base64.b64decode(out["data"][".dockerconfigjson"]) == (
        b'{\n\t"auths": {\n\t\t"ghcr.io": {\n\t\t\t"auth": "eDp5"\n\t\t}\n\t}\n}\n'
    )
    assert out["data"]["plain"] == "eA=="


def test_only_agekey_entries_are_imported_and_a_bad_one_names_its_key() -> None:
    def secrets(namespace: str, name: str) -> Mapping[str, str]:
        if name != "keys":
            raise errors.NotFound(f'secrets "{name}" not found')
        return {"identity.asc": "not age", "a.agekey": str(KEY), "b.agekey": "AGE-SECRET-KEY-PQ-1XYZ"}

    spec = api.Decryption(provider="sops", secret_ref=meta.LocalObjectReference(name="keys"))
    with pytest.raises(decrypt.DecryptError) as caught:
        decrypt.Decryptor.load(spec, "flux-system", secrets)
    assert caught.value.message == (
        "failed to import 'b.agekey' data from sops decryption Secret 'flux-system/keys': "
        "failed to parse and add to age identities: "
        "post-quantum age identities are not simulated by gitops-sim"
    )
