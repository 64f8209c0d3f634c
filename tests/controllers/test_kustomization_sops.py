"""SOPS-encrypted Secrets as kustomize-controller handles them.

Without `spec.decryption`, kustomize-controller refuses the whole apply when a `v1` Secret carries
a top-level `sops` key (`IsEncryptedSecret`), unless the Secret is annotated
`kustomize.toolkit.fluxcd.io/decrypt: disabled`: Ready=False, ReconciliationFailed, nothing applied.
With `spec.decryption`, Flux would decrypt; gitops-sim does not, and says so (BuildFailed) rather
than applying ciphertext.
"""

from __future__ import annotations

import pytest

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.testing import events_of, ready
from tests.builders import CONFIGMAP, KS, gitrepository, kustomization, repo_with

SECRET = refs.ObjectRef("", "Secret", "default", "db")
SETTINGS = refs.ObjectRef("", "ConfigMap", "default", "settings")
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


def start(sim: simulation.Simulation, secret: str, **spec: object) -> None:
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP % "a", "apps/secret.yaml": secret})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(**spec), field_manager="kubectl")
    sim.advance(1_000)


def gone(sim: simulation.Simulation, ref: refs.ObjectRef) -> bool:
    try:
        sim.cluster.get(ref)
    except errors.NotFound:
        return True
    return False


def test_an_encrypted_secret_without_decryption_fails_the_whole_apply(sim: simulation.Simulation) -> None:
    start(sim, ENCRYPTED)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": REFUSED,
    }
    assert gone(sim, SECRET) and gone(sim, SETTINGS)
    assert events_of(sim, KS)[-1][1:] == ("Warning", "ReconciliationFailed", REFUSED)


def test_an_encrypted_secret_with_decryption_is_not_applied_as_ciphertext(sim: simulation.Simulation) -> None:
    start(sim, ENCRYPTED, decryption={"provider": "sops", "secretRef": {"name": "sops-age"}})
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "BuildFailed",
        "message": "Secret/default/db is SOPS encrypted: decryption not simulated "
        "(gitops-sim does not decrypt spec.decryption's SOPS secrets)",
    }
    assert gone(sim, SECRET) and gone(sim, SETTINGS)


@pytest.mark.parametrize("decryption", [None, {"provider": "sops"}])
def test_a_secret_annotated_decrypt_disabled_is_applied_as_it_is(
    sim: simulation.Simulation, decryption: dict[str, str] | None
) -> None:
    secret = (
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
    start(sim, secret, **({"decryption": decryption} if decryption else {}))
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    live = sim.cluster.get(SECRET)
    assert "sops" not in live
    assert live["data"] == {"password": "cGxhaW4="}
