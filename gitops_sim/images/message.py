"""The commit message of an image update automation: `git.commit.messageTemplate` rendered as
image-automation-controller renders it.

What it does: `render(template, namespace=, name=, result=, values=)` runs the template (Go's
text/template with Sprig's hermetic functions: `model.gotemplate`) over the Go value the
controller hands it, `source.TemplateData`:

    .AutomationObject   types.NamespacedName{Namespace, Name}; prints as "<namespace>/<name>"
    .Changed            update.Result{FileChanges map[string]update.ObjectChanges}
        .FileChanges    file path -> update.ObjectChanges (map[update.ObjectIdentifier][]update.Change)
        .Objects        method: the changes per object, across files
        .Changes        method: every distinct change ([]update.Change)
        .Summary        method (Flux 2.10): a short text of the changes (see below)
    .Values             `messageTemplateValues` (map[string]string)

    update.ObjectIdentifier embeds kyaml's ResourceIdentifier, so `.Kind`, `.APIVersion`, `.Name`
    and `.Namespace` reach through it; update.Change is {OldValue, NewValue, Setter}.

An empty template is Flux's default message, `Update from image update automation`. A template
that does not parse is `unable to create commit message template from spec: <error>`; one that
fails to run is `failed to run template from spec: <error>` (`MessageError`), except that one
using the fields removed in Flux 2.7 (`.Updated`, `.Changed.ImageResult`) raises
`RemovedFieldError` with Flux's message, which the controller turns into Stalled.

`.Changed.Summary`: Flux 2.10's release note names it without a definition we could read; ours
is one line per distinct change, `<old value> -> <new value>`, in the order of `.Changes`.

Provenance: image-automation-controller internal/source/source.go (`TemplateData`,
`templateMsg`, `checkRemovedTemplateField`, `RemovedTemplateFieldError`, the default message)
and internal/update/result.go (`Result`, `ObjectChanges`, `Change`, `Changes`, `Objects`); our
own code.

Differences, on purpose: Go's `Changes()` walks its maps in random order, so the order of
`.Changes` (and of `.Summary`) differs from run to run in Flux; ours follows the files (in path
order) and the documents. Ranging over `.FileChanges` or `.Objects` is sorted in both.

Callers: the ImageUpdateAutomation controller. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops_sim.images import setters
from gitops_sim.model import gotemplate

DEFAULT_MESSAGE = "Update from image update automation"
TEMPLATE_NAME = "commit message"
DOCS = "https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template"
_REMOVED = (
    (
        ".Updated",
        "can't evaluate field Updated in type source.TemplateData",
        "Please use '.Changed' instead.",
    ),
    (
        ".Changed.ImageResult",
        "can't evaluate field ImageResult in type update.Result",
        "Please use '.Changed.FileChanges' or '.Changed.Objects' instead.",
    ),
)


class MessageError(Exception):
    """The template does not parse or does not run, in Flux's words."""


class RemovedFieldError(MessageError):
    """The template uses a field Flux removed (`RemovedTemplateFieldError`)."""


def _change(change: setters.Change) -> gotemplate.GoStruct:
    return gotemplate.GoStruct.of(
        "update.Change", {"OldValue": change.old_value, "NewValue": change.new_value, "Setter": change.setter}
    )


def _object_id(obj: setters.ObjectId) -> gotemplate.GoStruct:
    type_meta = gotemplate.GoStruct.of("yaml.TypeMeta", {"APIVersion": obj.api_version, "Kind": obj.kind})
    name_meta = gotemplate.GoStruct.of("yaml.NameMeta", {"Name": obj.name, "Namespace": obj.namespace})
    identifier = gotemplate.GoStruct.of(
        "yaml.ResourceIdentifier",
        {"TypeMeta": type_meta, "NameMeta": name_meta},
        embedded=("TypeMeta", "NameMeta"),
    )
    return gotemplate.GoStruct.of(
        "update.ObjectIdentifier", {"ResourceIdentifier": identifier}, embedded=("ResourceIdentifier",)
    )


def _object_changes(entries: tuple[setters.ObjectChanges, ...]) -> gotemplate.GoMap:
    return gotemplate.GoMap(
        "update.ObjectChanges",
        {_object_id(e.object): [_change(c) for c in e.changes] for e in entries},
        key_type="update.ObjectIdentifier",
    )


def template_data(
    *, namespace: str, name: str, result: setters.Result, values: Mapping[str, str]
) -> gotemplate.GoStruct:
    """`source.TemplateData` for `result`."""
    changes = [_change(c) for c in result.changes()]
    summary = "\n".join(f"{c.old_value} -> {c.new_value}" for c in result.changes())
    changed = gotemplate.GoStruct.of(
        "update.Result",
        {
            "FileChanges": gotemplate.GoMap(
                "map[string]update.ObjectChanges",
                {f.path: _object_changes(f.objects) for f in result.file_changes},
            )
        },
        methods={
            "Changes": lambda _self: changes,
            "Objects": lambda _self: _object_changes(result.objects()),
            "Summary": lambda _self: summary,
        },
    )
    automation = gotemplate.GoStruct.of(
        "types.NamespacedName",
        {"Namespace": namespace, "Name": name},
        string=lambda _self: f"{namespace}/{name}",
    )
    return gotemplate.GoStruct.of(
        "source.TemplateData",
        {
            "AutomationObject": automation,
            "Changed": changed,
            "Values": gotemplate.GoMap("map[string]string", dict(values), zero=""),
        },
    )


def render(
    template: str, *, namespace: str, name: str, result: setters.Result, values: Mapping[str, str]
) -> str:
    """The commit message (see the module docstring); raises MessageError."""
    try:
        parsed = gotemplate.parse(template or DEFAULT_MESSAGE, TEMPLATE_NAME)
    except gotemplate.TemplateError as exc:
        raise MessageError(f"unable to create commit message template from spec: {exc}") from exc
    data = template_data(namespace=namespace, name=name, result=result, values=values)
    try:
        return parsed.execute(data)
    except gotemplate.TemplateError as exc:
        for field, words, advice in _REMOVED:
            if words in str(exc):
                raise RemovedFieldError(
                    f"template uses removed '{field}' field. {advice} See: {DOCS}"
                ) from exc
        raise MessageError(f"failed to run template from spec: {exc}") from exc
