"""kubectl uses every served version of a CRD (issue 12, item 6): the non-preferred one included."""

from __future__ import annotations

from tests.http.conftest import Kubectl

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: externalsecrets.external-secrets.io}
spec:
  group: external-secrets.io
  scope: Namespaced
  names: {kind: ExternalSecret, plural: externalsecrets, singular: externalsecret, shortNames: [es]}
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""
SECRET = """apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: db, namespace: default}
spec: {refreshInterval: 1h}
"""


def test_kubectl_creates_and_gets_through_the_non_preferred_version_of_a_crd(kubectl: Kubectl) -> None:
    assert kubectl("apply", "-f", "-", stdin=CRD).returncode == 0
    versions = kubectl("api-versions").stdout.split()
    assert [v for v in versions if v.startswith("external-secrets.io/")] == [
        "external-secrets.io/v1",
        "external-secrets.io/v1beta1",
    ]
    created = kubectl("apply", "-f", "-", stdin=SECRET)
    assert (created.returncode, created.stdout.strip()) == (
        0,
        "externalsecret.external-secrets.io/db created",
    )
    listed = kubectl("get", "externalsecrets.v1beta1.external-secrets.io", "-o", "name")
    assert (listed.returncode, listed.stdout.strip()) == (0, "externalsecret.external-secrets.io/db")
    preferred = kubectl("get", "es", "db", "-o", "jsonpath={.apiVersion} {.spec.refreshInterval}")
    assert preferred.stdout == "external-secrets.io/v1 1h"


def test_kubectl_reads_an_object_in_the_version_its_request_names(kubectl: Kubectl) -> None:
    assert kubectl("apply", "-f", "-", stdin=CRD).returncode == 0
    assert kubectl("apply", "-f", "-", stdin=SECRET).returncode == 0
    one = kubectl("get", "externalsecrets.v1beta1.external-secrets.io", "db", "-o", "jsonpath={.apiVersion}")
    listed = kubectl(
        "get", "externalsecrets.v1beta1.external-secrets.io", "-o", "jsonpath={.items[*].apiVersion}"
    )
    patched = kubectl(
        "patch", "externalsecrets.v1beta1.external-secrets.io", "db", "--type=merge",
        "-p", '{"metadata":{"labels":{"a":"b"}}}', "-o", "jsonpath={.apiVersion}",
    )  # fmt: skip
    assert (one.stdout, listed.stdout, patched.stdout) == ("external-secrets.io/v1beta1",) * 3
