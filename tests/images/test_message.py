"""The commit message: `messageTemplate` over image-automation-controller's TemplateData."""

from __future__ import annotations

import pytest

from gitops_sim.images import message, setters
from gitops_sim.model.fluxapi import image

IMAGE = "ghcr.io/stefanprodan/podinfo"
FILES = {
    "apps/podinfo.yaml": (
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: podinfo, namespace: apps}\n"
        b"spec:\n  template:\n    spec:\n      containers:\n"
        b'        - image: ghcr.io/stefanprodan/podinfo:5.0.0 # {"$imagepolicy": "flux-system:podinfo"}\n'
    ),
    "apps/kustomization.yaml": (
        b'images:\n  - name: podinfo\n    newTag: 5.0.0 # {"$imagepolicy": "flux-system:podinfo:tag"}\n'
    ),
}
RESULT = setters.update(
    FILES, {setters.PolicyName("flux-system", "podinfo"): image.ImageRef(name=IMAGE, tag="5.0.3")}
)


def render(template: str, **values: str) -> str:
    return message.render(template, namespace="flux-system", name="fleet", result=RESULT, values=values)


def test_no_template_is_fluxs_default_message() -> None:
    assert render("") == "Update from image update automation"


def test_the_automation_object_prints_as_namespace_slash_name() -> None:
    assert render("{{ .AutomationObject }} {{ .AutomationObject.Name }}") == "flux-system/fleet fleet"


def test_file_changes_range_in_path_order_with_their_objects() -> None:
    template = (
        "{{ range $file, $objects := .Changed.FileChanges }}{{ $file }}:"
        "{{ range $id, $changes := $objects }} {{ $id.Kind }}({{ len $changes }}){{ end }}\n{{ end }}"
    )
    assert render(template) == "apps/kustomization.yaml: (1)\napps/podinfo.yaml: Deployment(1)\n"


def test_changes_and_the_summary_list_each_change_once() -> None:
    assert render("{{ range .Changed.Changes }}{{ .Setter }} {{ end }}") == (
        "flux-system:podinfo:tag flux-system:podinfo "
    )
    assert render("{{ .Changed.Summary }}") == f"5.0.0 -> 5.0.3\n{IMAGE}:5.0.0 -> {IMAGE}:5.0.3"


def test_values_are_the_message_template_values() -> None:
    assert (
        render("{{ .Values.env }}/{{ .Values.missing }}", env="prod") == "prod/<no value>"
    )  # as Go prints it


@pytest.mark.parametrize(
    ("template", "field", "advice"),
    [
        ("{{ .Updated.Images }}", ".Updated", "Please use '.Changed' instead."),
        ("{{ .Changed.ImageResult }}", ".Changed.ImageResult", "Please use '.Changed.FileChanges'"),
    ],
)
def test_a_removed_field_is_named_with_fluxs_advice(template: str, field: str, advice: str) -> None:
    with pytest.raises(message.RemovedFieldError) as caught:
        render(template)
    assert str(caught.value).startswith(f"template uses removed '{field}' field. {advice}")


def test_a_template_that_does_not_parse_says_so_in_fluxs_words() -> None:
    with pytest.raises(message.MessageError) as caught:
        render("{{ .Changed ")
    assert str(caught.value).startswith(
        "unable to create commit message template from spec: template: commit message:1:"
    )


def test_an_unknown_field_fails_to_run_with_gos_error() -> None:
    with pytest.raises(message.MessageError) as caught:
        render("{{ .Nope }}")
    assert str(caught.value) == (
        'failed to run template from spec: template: commit message:1:3: executing "commit message" '
        "at <.Nope>: can't evaluate field Nope in type source.TemplateData"
    )
