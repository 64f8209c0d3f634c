"""SOPS-encrypted content as kustomize-controller handles it.

Without `spec.decryption`, kustomize-controller refuses the whole apply when a `v1` Secret carries
a top-level `sops` key (`IsEncryptedSecret`), unless the Secret is annotated
`kustomize.toolkit.fluxcd.io/decrypt: disabled`: Ready=False, ReconciliationFailed, nothing applied.
With `spec.decryption` it decrypts with the age keys of the Secret it names: the built objects,
secretGenerator sources and patch files; what it cannot decrypt is BuildFailed in its words.
The files are encrypted here with `model.sops` (checked against the real sops CLI in
tests/model/test_sops.py).
"""

from __future__ import annotations

import base64
import random

import pytest

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation
from gitops_sim.model import age, refs, sops
from gitops_sim.testing import events_of, ready
from tests.builders import CONFIGMAP, KS, gitrepository, kustomization, repo_with, secret

SECRET = refs.ObjectRef("", "Secret", "default", "db")
SETTINGS = refs.ObjectRef("", "ConfigMap", "default", "settings")
KEY = age.generate(random.Random("test key"))
OTHER = age.generate(random.Random("another key"))
DECRYPTION = {"provider": "sops", "secretRef": {"name": "sops-age"}}
SOPS_BLOCK = """sops:
  age:
    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOQ==
        -----END AGE ENCRYPTED FILE-----
  lastmodified: "2024-05-01T10:00:00Z"
  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
  version: 3.8.1
"""
ENCRYPTED = (
    """apiVersion: v1
kind: Secret
metadata: {name: db, namespace: default}
type: Opaque
data:
  password: ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]
"""
    + SOPS_BLOCK
)
REFUSED = (
    "Secret/default/db is SOPS encrypted, configuring decryption is required for this secret to be reconciled"
)
PLAIN_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
type: Opaque
stringData:
  password: hunter2
  user: admin
"""
DATA_ONLY = sops.Rules(encrypted_regex="^(data|stringData)$")
FINGERPRINT = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"


def encrypted(
    text: str, fmt: sops.Format = "yaml", *, to: age.Identity = KEY, rules: sops.Rules = DATA_ONLY
) -> str:
    return sops.encrypt(
        text.encode(),
        fmt,
        [to.recipient],
        rules=rules,
        rng=random.Random(text),
        lastmodified="2024-05-01T10:00:00Z",
    ).decode()


def start(
    sim: simulation.Simulation, files: dict[str, str | None], *, keys: str | None = None, **spec: object
) -> None:
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP % "a", **files})
    if keys is not None:
        sim.cluster.apply(secret("sops-age", **{"age.agekey": keys}), field_manager="kubectl")
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(**spec), field_manager="kubectl")
    sim.advance(1_000)


def gone(sim: simulation.Simulation, ref: refs.ObjectRef) -> bool:
    try:
        sim.cluster.get(ref)
    except errors.NotFound:
        return True
    return False


def secret_values(sim: simulation.Simulation, ref: refs.ObjectRef = SECRET) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in sim.cluster.get(ref)["data"].items()}


def test_an_encrypted_secret_without_decryption_fails_the_whole_apply(sim: simulation.Simulation) -> None:
    start(sim, {"apps/secret.yaml": ENCRYPTED})
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": REFUSED,
    }
    assert gone(sim, SECRET) and gone(sim, SETTINGS)
    assert events_of(sim, KS)[-1][1:] == ("Warning", "ReconciliationFailed", REFUSED)


def test_an_encrypted_secret_is_applied_decrypted_with_the_age_key_of_the_decryption_secret(
    sim: simulation.Simulation,
) -> None:
    start(sim, {"apps/secret.yaml": encrypted(PLAIN_SECRET)}, keys=str(KEY), decryption=DECRYPTION)
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    live = sim.cluster.get(SECRET)
    assert "sops" not in live
    assert secret_values(sim) == {"password": "hunter2", "user": "admin"}


def test_a_secret_encrypted_for_another_key_fails_the_build_with_sops_report(
    sim: simulation.Simulation,
) -> None:
    start(sim, {"apps/secret.yaml": encrypted(PLAIN_SECRET, to=OTHER)}, keys=str(KEY), decryption=DECRYPTION)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "BuildFailed",
        "message": "decryption failed for 'Secret.v1.[noGrp]/db': failed to decrypt and format 'default/db' "
        "Secret data: cannot get sops data key: Failed to get the data key required to decrypt the SOPS "
        f"file.\n\nGroup 0: FAILED\n  {OTHER.recipient}: FAILED\n"
        "    - | failed to create reader for decrypting sops data key with\n"
        "      | age: identity did not match any of the recipients: incorrect\n"
        "      | identity for recipient block\n\n"
        "Recovery failed because no master key was able to decrypt the file. In\n"
        "order for SOPS to recover the file, at least one key has to be successful,\n"
        "but none were.",
    }
    assert gone(sim, SECRET) and gone(sim, SETTINGS)


def test_a_missing_decryption_secret_fails_every_build(sim: simulation.Simulation) -> None:
    start(sim, {}, decryption=DECRYPTION)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "BuildFailed",
        "message": 'secrets "sops-age" not found',
    }


def test_a_decryption_secret_without_age_keys_fails_as_sops_does_in_the_controller_pod(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(secret("sops-age", **{"sops.vault-token": "x"}), field_manager="kubectl")
    start(sim, {"apps/secret.yaml": encrypted(PLAIN_SECRET)}, decryption=DECRYPTION)
    message = ready(sim.cluster.get(KS))["message"]
    assert "    - | failed to load age identities. Did not find keys in\n" in message
    assert "      | locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE'," in message


def test_a_malformed_age_key_fails_the_import(sim: simulation.Simulation) -> None:
    start(sim, {}, keys="AGE-SECRET-KEY-1QQQQ", decryption=DECRYPTION)
    assert ready(sim.cluster.get(KS))["message"] == (
        "failed to import 'age.agekey' data from sops decryption Secret 'flux-system/sops-age': "
        "failed to parse and add to age identities: malformed secret key: separator '1' at invalid position: "
        "pos=15, len=20"
    )


def test_a_tampered_ciphertext_fails_gcm_authentication(sim: simulation.Simulation) -> None:
    text = encrypted(PLAIN_SECRET)
    tampered = text.replace("password: ENC[AES256_GCM,data:", "password: ENC[AES256_GCM,data:AA", 1)
    start(sim, {"apps/secret.yaml": tampered}, keys=str(KEY), decryption=DECRYPTION)
    assert ready(sim.cluster.get(KS))["message"] == (
        "decryption failed for 'Secret.v1.[noGrp]/db': failed to decrypt and format 'default/db' "
        "Secret data: error decrypting sops tree: Error walking tree: Could not decrypt value: "
        "Could not decrypt with AES_GCM: cipher: message authentication failed"
    )


def test_a_value_changed_in_clear_is_applied_because_flux_does_not_check_the_mac(
    sim: simulation.Simulation,
) -> None:
    text = encrypted(PLAIN_SECRET.replace("type: Opaque", "type: Opaque\nimmutable: false"))
    start(
        sim,
        {"apps/secret.yaml": text.replace("immutable: false", "immutable: true")},
        keys=str(KEY),
        decryption=DECRYPTION,
    )
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    assert sim.cluster.get(SECRET)["immutable"] is True


def test_a_secret_generator_decrypts_its_encrypted_env_file(sim: simulation.Simulation) -> None:
    kustomization_yaml = """secretGenerator:
  - name: db
    namespace: default
    envs: [db.env]
generatorOptions: {disableNameSuffixHash: true}
"""
    env = encrypted("password=hunter2\nuser_unencrypted=admin\n", "dotenv", rules=sops.Rules())
    assert "user_unencrypted=admin" in env and "hunter2" not in env
    start(
        sim,
        {"apps/kustomization.yaml": kustomization_yaml, "apps/db.env": env},
        keys=str(KEY),
        decryption=DECRYPTION,
    )
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    assert secret_values(sim) == {"password": "hunter2", "user_unencrypted": "admin"}


def test_an_encrypted_patch_file_is_decrypted_before_the_build(sim: simulation.Simulation) -> None:
    kustomization_yaml = "resources: [cm.yaml]\npatches:\n  - path: patch.yaml\n"
    patch = encrypted(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\n"
        "data: {mode: secret}\n",
        rules=sops.Rules(encrypted_regex="^data$"),
    )
    start(
        sim,
        {"apps/kustomization.yaml": kustomization_yaml, "apps/patch.yaml": patch},
        keys=str(KEY),
        decryption=DECRYPTION,
    )
    assert sim.cluster.get(SETTINGS)["data"] == {"mode": "secret"}


def test_an_encrypted_value_of_a_secret_data_entry_is_decrypted_in_its_key_format(
    sim: simulation.Simulation,
) -> None:
    inner = encrypted("token: s3cr3t\n", rules=sops.Rules())
    manifest = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: default}\n"
        f"data:\n  config.yaml: {base64.b64encode(inner.encode()).decode()}\n"
    )
    start(sim, {"apps/secret.yaml": manifest}, keys=str(KEY), decryption=DECRYPTION)
    assert secret_values(sim) == {"config.yaml": "token: s3cr3t\n"}


def test_a_file_encrypted_only_for_pgp_says_pgp_is_not_simulated(sim: simulation.Simulation) -> None:
    pgp_block = SOPS_BLOCK.replace(
        """  age:
    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOQ==
        -----END AGE ENCRYPTED FILE-----
""",
        f"  pgp:\n    - fp: {FINGERPRINT}\n      created_at: '2024-05-01T10:00:00Z'\n      enc: x\n",
    )
    start(
        sim,
        {"apps/secret.yaml": ENCRYPTED.replace(SOPS_BLOCK, pgp_block)},
        keys=str(KEY),
        decryption=DECRYPTION,
    )
    message = ready(sim.cluster.get(KS))["message"]
    assert f"  {FINGERPRINT}: FAILED\n    - | PGP master keys are not simulated by gitops-sim\n" in message


def test_a_changed_decryption_secret_is_read_again_at_the_next_reconcile(sim: simulation.Simulation) -> None:
    start(sim, {"apps/secret.yaml": encrypted(PLAIN_SECRET)}, keys=str(KEY), decryption=DECRYPTION)
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    sim.cluster.apply(secret("sops-age", **{"age.agekey": str(OTHER)}), field_manager="kubectl")
    sim.advance(10 * 60_000 + 60_000)
    assert ready(sim.cluster.get(KS))["reason"] == "BuildFailed"


@pytest.mark.parametrize("decryption", [None, {"provider": "sops"}])
def test_a_secret_annotated_decrypt_disabled_is_applied_as_it_is(
    sim: simulation.Simulation, decryption: dict[str, str] | None
) -> None:
    manifest = (
        """apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
  annotations: {kustomize.toolkit.fluxcd.io/decrypt: disabled}
stringData: {password: plain}
"""
        + SOPS_BLOCK
    )
    if decryption:
        start(sim, {"apps/secret.yaml": manifest}, decryption=decryption)
    else:
        start(sim, {"apps/secret.yaml": manifest})
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    live = sim.cluster.get(SECRET)
    assert "sops" not in live
    assert live["data"] == {"password": "cGxhaW4="}
