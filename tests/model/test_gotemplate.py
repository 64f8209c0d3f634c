"""Go's text/template with Sprig's hermetic functions: Go's output, Go's errors, Flux's data."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from gitops_sim.model import gotemplate
from gitops_sim.model.gotemplate import GoMap, GoStruct, Int64


def render(text: str, data: Any = None) -> str:
    return gotemplate.parse(text, "t").execute(data)


def failure(text: str, data: Any = None) -> str:
    with pytest.raises(gotemplate.TemplateError) as caught:
        render(text, data)
    return str(caught.value)


# ---------------------------------------------------------------------------------------------
# Flux's TemplateData (image-automation-controller internal/source, internal/update), built as
# the controller builds it, and the examples of docs/spec/v1/imageupdateautomations.md


def namespaced_name(namespace: str, name: str) -> GoStruct:
    return GoStruct.of(
        "types.NamespacedName",
        {"Namespace": namespace, "Name": name},
        string=lambda n: f"{n.get('Namespace')}/{n.get('Name')}",
    )


def object_id(api_version: str, kind: str, namespace: str, name: str) -> GoStruct:
    """update.ObjectIdentifier embeds kyaml's ResourceIdentifier, which embeds TypeMeta and
    NameMeta: `.Kind` and `.Name` are promoted two levels up."""
    type_meta = GoStruct.of("yaml.TypeMeta", {"APIVersion": api_version, "Kind": kind})
    name_meta = GoStruct.of("yaml.NameMeta", {"Name": name, "Namespace": namespace})
    identifier = GoStruct.of(
        "yaml.ResourceIdentifier",
        {"TypeMeta": type_meta, "NameMeta": name_meta},
        embedded=("TypeMeta", "NameMeta"),
    )
    return GoStruct.of(
        "update.ObjectIdentifier", {"ResourceIdentifier": identifier}, embedded=("ResourceIdentifier",)
    )


def change(old: str, new: str, setter: str) -> GoStruct:
    return GoStruct.of("update.Change", {"OldValue": old, "NewValue": new, "Setter": setter})


def object_changes(items: dict[GoStruct, list[GoStruct]]) -> GoMap:
    return GoMap("update.ObjectChanges", items, key_type="update.ObjectIdentifier")


def result_changes(result: GoStruct) -> list[GoStruct]:
    """Result.Changes(): every change once (Go walks its maps at random; we walk them sorted)."""
    seen: list[GoStruct] = []
    for _, objects in sorted(result.get("FileChanges").items()):
        for _, changes in sorted(objects.items()):
            seen.extend(c for c in changes if c not in seen)
    return seen


def result_objects(result: GoStruct) -> GoMap:
    """Result.Objects(): the changes of each object, whichever file they are in."""
    merged: dict[GoStruct, list[GoStruct]] = {}
    for _, objects in sorted(result.get("FileChanges").items()):
        for obj, changes in sorted(objects.items()):
            merged.setdefault(obj, []).extend(changes)
    return object_changes(merged)


def update_result(files: dict[str, GoMap]) -> GoStruct:
    return GoStruct.of(
        "update.Result",
        {"FileChanges": GoMap("map[string]update.ObjectChanges", files)},
        methods={"Changes": result_changes, "Objects": result_objects},
    )


def template_data(files: dict[str, GoMap], values: dict[str, str] | None = None) -> GoStruct:
    return GoStruct.of(
        "source.TemplateData",
        {
            "AutomationObject": namespaced_name("flux-system", "podinfo"),
            "Changed": update_result(files),
            "Values": GoMap("map[string]string", values or {}, zero=""),
        },
    )


PODINFO = object_id("apps/v1", "Deployment", "default", "podinfo")


@pytest.fixture
def data() -> GoStruct:
    """One Deployment changed in two files (an image in the base, replicas in an overlay)."""
    return template_data(
        {
            "base/deployment.yaml": object_changes(
                {PODINFO: [change("podinfo:v1.0.0", "podinfo:v1.0.1", "flux-system:podinfo")]}
            ),
            "overlays/prod/deployment.yaml": object_changes(
                {PODINFO: [change("1", "2", "flux-system:replicas")]}
            ),
        },
        {"cluster": "prod"},
    )


DOCS_METHODS_EXAMPLE = """Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
"""


def test_the_docs_example_with_methods_renders_as_go_renders_it(data: GoStruct) -> None:
    assert gotemplate.parse(DOCS_METHODS_EXAMPLE, "commit message").execute(data) == (
        "Automated image update\n"
        "\n"
        "Automation name: flux-system/podinfo\n"
        "\n"
        "Files:\n"
        "- base/deployment.yaml\n"
        "- overlays/prod/deployment.yaml\n"
        "Objects:\n"
        "- Deployment podinfo\n"
        "  Changes:\n"
        "    - podinfo:v1.0.0 -> podinfo:v1.0.1\n"
        "\n"
        "    - 1 -> 2\n"
    )


DOCS_FUNCTIONS_EXAMPLE = """Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}
  Changes:
{{- range $_, $change := $changes }}
  {{ if contains "5.0.3" $change.NewValue -}}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
  {{ else -}}
    [skip ci] wrong image
  {{ end -}}
{{ end -}}
{{ end -}}
"""


def test_the_docs_example_with_functions_renders_as_go_renders_it() -> None:
    data = template_data(
        {
            "deploy.yaml": object_changes(
                {
                    object_id("apps/v1", "Deployment", "apps", "PodInfo"): [
                        change("podinfo:5.0.2", "podinfo:5.0.3", "flux-system:podinfo"),
                        change("redis:6.0", "redis:6.2", "flux-system:redis"),
                    ]
                }
            )
        }
    )
    assert gotemplate.parse(DOCS_FUNCTIONS_EXAMPLE, "commit message").execute(data) == (
        "Automated image update\n"
        "\n"
        "Automation name: flux-system/podinfo\n"
        "\n"
        "Files:\n"
        "- deploy.yaml\n"
        "Objects:\n"
        "- deployment podinfo\n"
        "  Changes:\n"
        "  - podinfo:5.0.2 -> podinfo:5.0.3\n"
        "  \n"
        "  [skip ci] wrong image\n"
        "  "
    )


def test_the_docs_example_with_values_renders_the_value(data: GoStruct) -> None:
    text = "Automated image update by Flux for cluster {{ .Values.cluster }}."
    assert render(text, data) == "Automated image update by Flux for cluster prod."


def test_the_docs_change_id_example_hashes_what_go_prints_for_the_changes(data: GoStruct) -> None:
    text = (
        "Perform automatic image update\n\n"
        "Automation name: {{ .AutomationObject }}\n\n"
        "{{- $ChangeId := .AutomationObject -}}\n"
        '{{- $ChangeId = printf "%s%s" $ChangeId ( .Changed.FileChanges | toString ) -}}\n'
        '{{- $ChangeId = printf "%s%s" $ChangeId ( .Changed.Objects | toString ) -}}\n'
        '{{- $ChangeId = printf "%s%s" $ChangeId ( .Changed.Changes | toString ) }}\n'
        'Change-Id: {{ printf "I%s" ( sha256sum $ChangeId | trunc 40 ) }}\n'
    )
    podinfo = "{{{apps/v1 Deployment} {podinfo default}}}"
    image = "{podinfo:v1.0.0 podinfo:v1.0.1 flux-system:podinfo}"
    replicas = "{1 2 flux-system:replicas}"
    change_id = (
        "flux-system/podinfo"
        f"map[base/deployment.yaml:map[{podinfo}:[{image}]] "
        f"overlays/prod/deployment.yaml:map[{podinfo}:[{replicas}]]]"
        f"map[{podinfo}:[{image} {replicas}]]"
        f"[{image} {replicas}]"
    )
    digest = hashlib.sha256(change_id.encode()).hexdigest()[:40]
    assert render(text, data) == (
        f"Perform automatic image update\n\nAutomation name: flux-system/podinfo\nChange-Id: I{digest}\n"
    )


def test_the_docs_one_line_example_prints_each_change_on_its_line(data: GoStruct) -> None:
    text = "{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}"
    assert render(text, data) == "podinfo:v1.0.0 -> podinfo:v1.0.1\n1 -> 2\n"


def test_a_per_file_template_reaches_the_promoted_fields_of_an_object_identifier() -> None:
    data = template_data(
        {
            "deploy.yaml": object_changes(
                {object_id("apps/v1", "Deployment", "", "test"): [change("a:1", "a:2", "s")]}
            )
        }
    )
    text = (
        "{{ range $file, $objects := .Changed.FileChanges -}}\n"
        "{{ $file }}:\n"
        "{{- range $obj, $changes := $objects }} {{ $obj.Kind }}/{{ $obj.Namespace }}/{{ $obj.Name }}"
        "{{ range $changes }} {{ .OldValue }}=>{{ .NewValue }}{{ end }}{{ end }}\n"
        "{{ end }}"
    )
    assert render(text, data) == "deploy.yaml: Deployment//test a:1=>a:2\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "{{ range $filename, $_ := .Updated.Files -}}\n- {{ $filename }}\n{{ end -}}",
            'template: commit message:1:34: executing "commit message" at <.Updated.Files>: '
            "can't evaluate field Updated in type source.TemplateData",
            id="removed-updated",
        ),
        pytest.param(
            "Objects:\n{{ range $resource, $_ := .Changed.ImageResult.Objects -}}{{ end }}",
            'template: commit message:2:34: executing "commit message" at <.Changed.ImageResult.Objects>: '
            "can't evaluate field ImageResult in type update.Result",
            id="removed-image-result",
        ),
    ],
)
def test_a_removed_field_fails_with_the_words_flux_looks_for(data: GoStruct, text: str, message: str) -> None:
    with pytest.raises(gotemplate.TemplateError) as caught:
        gotemplate.parse(text, "commit message").execute(data)
    assert str(caught.value) == message


def test_a_missing_value_prints_no_value_and_index_gives_the_zero_string(data: GoStruct) -> None:
    assert render('[{{ .Values.nope }}] [{{ index .Values "nope" }}]', data) == "[<no value>] []"


def test_rendering_fifty_changes_is_fast() -> None:
    files = {
        f"apps/app{i:02d}.yaml": object_changes(
            {
                object_id("apps/v1", "Deployment", "apps", f"app{i:02d}"): [
                    change(f"app:{i}", f"app:{i + 1}", "s")
                ]
            }
        )
        for i in range(50)
    }
    template = gotemplate.parse(DOCS_METHODS_EXAMPLE, "commit message")
    data = template_data(files)
    start = time.perf_counter()
    for _ in range(10):
        template.execute(data)
    assert (time.perf_counter() - start) / 10 < 0.025  # generous: about 1.5 ms on a laptop


# ---------------------------------------------------------------------------------------------
# text/template: text, actions, whitespace


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        pytest.param("plain text", None, "plain text", id="raw-text"),
        pytest.param("a  {{- 1 -}}  b", None, "a1b", id="trim-both-sides"),
        pytest.param("a \n\t {{- 1 }} \n b", None, "a1 \n b", id="trim-left-takes-newlines"),
        pytest.param("a {{ 1 -}} \n\n b", None, "a 1b", id="trim-right-takes-newlines"),
        pytest.param("a {{-1}} b", None, "a -1 b", id="minus-without-space-is-a-number"),
        pytest.param("a {{/* note */}} b", None, "a  b", id="comment"),
        pytest.param("a {{- /* note */ -}} b", None, "ab", id="trimmed-comment"),
        pytest.param("{{ .A }}-{{ .B.C }}", {"A": "x", "B": {"C": 2}}, "x-2", id="field-chain"),
        pytest.param(
            "{{ with .B }}{{ $.A }}{{ . }}{{ end }}", {"A": 3, "B": 4}, "34", id="dollar-is-the-data"
        ),
        pytest.param(
            "{{ $x := .A }}{{ $x = print $x $x }}{{ $x }}", {"A": "ab"}, "abab", id="declare-and-assign"
        ),
        pytest.param('{{ "x" | printf "%s-%s" "y" }}', None, "y-x", id="pipe-is-the-last-argument"),
        pytest.param('{{ "a\\tb\\u00e9\\x41" }}|{{ `raw\\n` }}', None, "a\tbéA|raw\\n", id="string-literals"),
        pytest.param(
            "{{ 'a' }} {{ 0x1F }} {{ 0o17 }} {{ 1_000 }} {{ -2 }}", None, "97 31 15 1000 -2", id="ints"
        ),
        pytest.param(
            "{{ 1.5 }} {{ 1e6 }} {{ 100000.0 }} {{ 1.23456789e8 }} {{ 1e-5 }}",
            None,
            "1.5 1e+06 100000 1.23456789e+08 1e-05",
            id="floats-as-fmt-prints-them",
        ),
        pytest.param("{{ true }} {{ false }} {{ print nil }}", None, "true false <nil>", id="bools-and-nil"),
    ],
)
def test_actions_render_as_go_renders_them(text: str, data: Any, expected: str) -> None:
    assert render(text, data) == expected


# ---------------------------------------------------------------------------------------------
# text/template: control structures


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        pytest.param("{{ if .A }}a{{ else if .B }}b{{ else }}c{{ end }}", {"B": 1}, "b", id="else-if"),
        pytest.param(
            "{{ with .A }}{{ . }}{{ else with .B }}b{{ . }}{{ else }}none{{ end }}",
            {"B": 2},
            "b2",
            id="else-with",
        ),
        pytest.param(
            "{{ with .A }}{{ . }}{{ else }}none{{ end }}", {"A": ""}, "none", id="with-empty-is-false"
        ),
        pytest.param("{{ range .L }}[{{ . }}]{{ end }}", {"L": ["a", "b"]}, "[a][b]", id="range-slice"),
        pytest.param(
            "{{ range $i, $e := .L }}{{ $i }}={{ $e }} {{ end }}",
            {"L": ["a", "b"]},
            "0=a 1=b ",
            id="range-index-and-element",
        ),
        pytest.param(
            "{{ range $e := .L }}{{ $e }}{{ end }}", {"L": ["a", "b"]}, "ab", id="one-variable-is-the-element"
        ),
        pytest.param(
            "{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}",
            {"b": 2, "a": 1, "c": 3},
            "a=1;b=2;c=3;",
            id="range-map-in-key-order",
        ),
        pytest.param("{{ range 3 }}{{ . }}{{ end }}", None, "012", id="range-int"),
        pytest.param("{{ range .L }}x{{ else }}empty{{ end }}", {"L": []}, "empty", id="range-else"),
        pytest.param("{{ range .Missing }}x{{ else }}empty{{ end }}", {}, "empty", id="range-missing-key"),
        pytest.param(
            "{{ range $i, $e := .L }}{{ if eq $i 1 }}{{ continue }}{{ end }}"
            "{{ if eq $i 3 }}{{ break }}{{ end }}{{ $e }}{{ end }}",
            {"L": list("abcde")},
            "ac",
            id="break-and-continue",
        ),
        pytest.param(
            "{{ range .L }}{{ $x := . }}{{ end }}{{ $x := 5 }}{{ $x }}",
            {"L": [1]},
            "5",
            id="variables-are-scoped-to-their-block",
        ),
        pytest.param(
            '{{ define "item" }}[{{ . }}]{{ end }}{{ template "item" 5 }}{{ template "item" }}',
            None,
            "[5][<no value>]",
            id="define-and-template",
        ),
        pytest.param('{{ block "b" .A }}<{{ . }}>{{ end }}', {"A": 6}, "<6>", id="block"),
        pytest.param(
            '{{ if and 1 0 }}y{{ else }}n{{ end }} {{ and 1 2 }} {{ or 0 "" "z" }} {{ or 0 "" }}',
            None,
            "n 2 z ",
            id="and-or-return-the-deciding-value",
        ),
        pytest.param("{{ and 0 .Nope.Deeper }}", {}, "0", id="and-short-circuits"),
        pytest.param(
            "{{ not 0 }} {{ not .L }} {{ not .M }}", {"L": [1], "M": {}}, "true false true", id="not"
        ),
    ],
)
def test_control_structures_run_as_go_runs_them(text: str, data: Any, expected: str) -> None:
    assert render(text, data) == expected


# ---------------------------------------------------------------------------------------------
# printing (fmt's %v) and Go values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "<nil>", id="nil"),
        pytest.param([1, "b", None, 2.5], "[1 b <nil> 2.5]", id="slice"),
        pytest.param(
            {"b": [1], "a": {"y": 2, "x": True}}, "map[a:map[x:true y:2] b:[1]]", id="map-keys-sorted"
        ),
        pytest.param(
            {2: "two", 10: "ten", 1: "one"}, "map[1:one 2:two 10:ten]", id="int-keys-sorted-as-numbers"
        ),
        pytest.param(GoStruct.of("x.T", {"A": 1, "B": "s", "C": [1]}), "{1 s [1]}", id="struct"),
        pytest.param(namespaced_name("ns", "n"), "ns/n", id="stringer"),
        pytest.param([namespaced_name("ns", "n")], "[ns/n]", id="stringer-in-a-slice"),
        pytest.param(Int64(-3), "-3", id="int64"),
        pytest.param(1e21, "1e+21", id="large-float"),
        pytest.param(-0.000012, "-1.2e-05", id="small-float"),
    ],
)
def test_values_print_as_fmt_prints_them(value: Any, expected: str) -> None:
    assert render("{{ .V }}", {"V": value}) == expected


def test_a_map_with_struct_keys_ranges_field_by_field() -> None:
    keys = [
        object_id("v1", "B", "ns", "a"),
        object_id("v1", "A", "ns", "z"),
        object_id("apps/v1", "Z", "ns", "m"),
    ]
    data = {"M": GoMap("update.ObjectChanges", {k: [] for k in keys}, key_type="update.ObjectIdentifier")}
    assert render("{{ range $k, $_ := .M }}{{ $k.Kind }} {{ end }}", data) == "Z A B "


def test_a_method_is_called_with_its_arguments() -> None:
    greeter = GoStruct.of(
        "x.G", {"Name": "flux"}, methods={"Greet": lambda g, word, n: f"{word} {g.get('Name')} {n}"}
    )
    assert render('{{ .Greet "hello" 3 }}', greeter) == "hello flux 3"


def test_a_promoted_field_that_is_ambiguous_is_not_found() -> None:
    left = GoStruct.of("x.L", {"Name": "l"})
    right = GoStruct.of("x.R", {"Name": "r"})
    both = GoStruct.of("x.Both", {"L": left, "R": right}, embedded=("L", "R"))
    assert "can't evaluate field Name in type x.Both" in failure("{{ .Name }}", both)


def test_a_struct_is_a_hashable_ordered_map_key() -> None:
    assert object_id("v1", "A", "", "x") == object_id("v1", "A", "", "x")
    assert len({object_id("v1", "A", "", "x"), object_id("v1", "A", "", "x")}) == 1
    assert object_id("v1", "A", "", "x") < object_id("v1", "B", "", "a")


# ---------------------------------------------------------------------------------------------
# builtins


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        pytest.param(
            '{{ len .L }} {{ len "héllo" }} {{ len .M }}', {"L": [1, 2], "M": {"a": 1}}, "2 6 1", id="len"
        ),
        pytest.param(
            '{{ index .L 1 }} {{ index .M "a" 0 }}', {"L": [1, 2], "M": {"a": ["x"]}}, "2 x", id="index"
        ),
        pytest.param('{{ index .M "nope" }}', {"M": {}}, "<nil>", id="index-missing-interface-key-is-nil"),
        pytest.param('{{ print 1 2 "a" "b" 3 }}', None, "1 2ab3", id="print-spaces-between-non-strings"),
        pytest.param('{{ println 1 "a" }}', None, "1 a\n", id="println"),
        pytest.param(
            '{{ printf "%s|%d|%v|%q|%5.2f|%-4s|%x|%t|%T" "a" 3 true "q" 3.14159 "x" 255 false 1.5 }}',
            None,
            'a|3|true|"q"| 3.14|x   |ff|false|float64',
            id="printf-verbs",
        ),
        pytest.param(
            '{{ printf "%d %s" "a" }} {{ printf "x" 1 }}',
            None,
            "%!d(string=a) %!s(MISSING) x%!(EXTRA int=1)",
            id="printf-inline-errors",
        ),
        pytest.param(
            '{{ printf "%v %+v" .S .S }}',
            {"S": GoStruct.of("x.T", {"A": 1, "B": "b"})},
            "{1 b} {A:1 B:b}",
            id="printf-struct",
        ),
        pytest.param(
            '{{ eq 1 2 3 1 }} {{ eq "a" "b" }} {{ ne 1 2 }} {{ eq .Nope "x" }}',
            {},
            "true false true false",
            id="eq-ne",
        ),
        pytest.param(
            '{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}',
            None,
            "true true true false",
            id="ordering",
        ),
        pytest.param(
            "{{ html \"<a href='x'>&</a>\" }}", None, "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;", id="html"
        ),
        pytest.param('{{ js "it\'s <b>" }}', None, "it\\'s \\u003Cb\\u003E", id="js"),
        pytest.param('{{ urlquery "a b&c" }}', None, "a+b%26c", id="urlquery"),
        pytest.param("{{ call .F 2 3 }}", {"F": lambda a, b: a * b}, "6", id="call"),
    ],
)
def test_builtins_behave_as_go_builtins(text: str, data: Any, expected: str) -> None:
    assert render(text, data) == expected


# ---------------------------------------------------------------------------------------------
# errors, in Go's words


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{{ .A }", 'template: t:1: unexpected "}" in operand', id="single-brace"),
        pytest.param("{{ foo }}", 'template: t:1: function "foo" not defined', id="unknown-function"),
        pytest.param("{{ now }}", 'template: t:1: function "now" not defined', id="non-hermetic-function"),
        pytest.param(
            '{{ env "HOME" }}', 'template: t:1: function "env" not defined', id="env-is-not-hermetic"
        ),
        pytest.param("a\n{{ $y }}", 'template: t:2: undefined variable "$y"', id="undefined-variable"),
        pytest.param("{{ if }}", "template: t:1: missing value for if", id="empty-if"),
        pytest.param("{{ }}", "template: t:1: missing value for command", id="empty-action"),
        pytest.param("{{ if .A }}", "template: t:1: unexpected EOF", id="missing-end"),
        pytest.param("{{ end }}", "template: t:1: unexpected {{end}}", id="stray-end"),
        pytest.param("{{ else }}", "template: t:1: unexpected {{else}}", id="stray-else"),
        pytest.param("{{ break }}", "template: t:1: {{break}} outside {{range}}", id="break-outside-range"),
        pytest.param("x\n{{ .A\n", "template: t:3: unclosed action started at t:2", id="unclosed-action"),
        pytest.param("{{/* x }}", "template: t:1: unclosed comment", id="unclosed-comment"),
        pytest.param("{{ /* x */ }}", 'template: t:1: unexpected "/" in command', id="comment-after-a-space"),
        pytest.param(
            "{{/* x */ .A }}", "template: t:1: comment ends before closing delimiter", id="comment-not-alone"
        ),
        pytest.param('{{ "abc }}', "template: t:1: unterminated quoted string", id="unterminated-string"),
        pytest.param("{{ 3x }}", 'template: t:1: bad number syntax: "3x"', id="bad-number"),
        pytest.param(
            "{{ .A | 3 }}", "template: t:1: non executable command in pipeline stage 2", id="literal-stage"
        ),
        pytest.param("{{ 3.X }}", 'template: t:1: bad number syntax: "3.X"', id="field-of-a-number"),
        pytest.param(
            '{{ "x".Y }}', 'template: t:1: unexpected . after term "\\"x\\""', id="field-of-a-string"
        ),
    ],
)
def test_parse_errors_are_worded_as_go_words_them(text: str, message: str) -> None:
    with pytest.raises(gotemplate.TemplateError) as caught:
        gotemplate.parse(text, "t")
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "data", "message"),
    [
        pytest.param(
            "{{ upper 3 }}",
            None,
            'template: t:1:9: executing "t" at <3>: expected string; found 3',
            id="literal-of-the-wrong-type",
        ),
        pytest.param(
            "{{ 3 | upper }}",
            None,
            'template: t:1:7: executing "t" at <upper>: wrong type for value; expected string; got int',
            id="value-of-the-wrong-type",
        ),
        pytest.param(
            "{{ upper }}",
            None,
            'template: t:1:3: executing "t" at <upper>: wrong number of args for upper: want 1 got 0',
            id="too-few-arguments",
        ),
        pytest.param(
            '{{ upper "a" "b" }}',
            None,
            'template: t:1:3: executing "t" at <upper>: wrong number of args for upper: want 1 got 2',
            id="too-many-arguments",
        ),
        pytest.param(
            "{{ index .L 5 }}",
            {"L": [1]},
            'template: t:1:3: executing "t" at <index .L 5>: error calling index: index out of range: 5',
            id="index-out-of-range",
        ),
        pytest.param(
            "{{ .Values.x | upper }}",
            {"Values": {}},
            'template: t:1:15: executing "t" at <upper>: invalid value; expected string',
            id="missing-key-where-a-string-is-wanted",
        ),
        pytest.param(
            '{{ repeat (add 1 2) "x" }}',
            None,
            'template: t:1:17: executing "t" at <2>: wrong type for value; expected int; got int64',
            id="int64-where-an-int-is-wanted",
        ),
        pytest.param(
            "{{ .A.B }}",
            {"A": None},
            'template: t:1:5: executing "t" at <.A.B>: nil pointer evaluating interface {}.B',
            id="field-of-nil",
        ),
        pytest.param(
            "{{ .S.Name 1 }}",
            {"S": GoStruct.of("x.T", {"Name": "n"})},
            'template: t:1:5: executing "t" at <.S.Name>: '
            "Name has arguments but cannot be invoked as function",
            id="field-with-arguments",
        ),
        pytest.param(
            "{{ eq 1 1.0 }}",
            None,
            'template: t:1:3: executing "t" at <eq 1 1.0>: '
            "error calling eq: incompatible types for comparison",
            id="eq-of-int-and-float",
        ),
        pytest.param(
            "{{ lt true false }}",
            None,
            'template: t:1:3: executing "t" at <lt true false>: '
            "error calling lt: invalid type for comparison",
            id="lt-of-bools",
        ),
        pytest.param(
            "{{ range .X }}{{ end }}",
            {"X": "abc"},
            'template: t:1:9: executing "t" at <.X>: range can\'t iterate over abc',
            id="range-over-a-string",
        ),
        pytest.param(
            '{{ template "nope" }}',
            None,
            'template: t:1:12: executing "t" at <{{template "nope"}}>: no such template "nope"',
            id="no-such-template",
        ),
        pytest.param(
            '{{ define "a" }}\n{{ .Q }}{{ end }}{{ template "a" 1 }}',
            None,
            'template: t:2:3: executing "a" at <.Q>: can\'t evaluate field Q in type int',
            id="error-inside-a-defined-template",
        ),
        pytest.param(
            '{{ fail "stop here" }}',
            None,
            'template: t:1:3: executing "t" at <fail "stop here">: error calling fail: stop here',
            id="fail",
        ),
    ],
)
def test_execution_errors_are_worded_as_go_words_them(text: str, data: Any, message: str) -> None:
    assert failure(text, data) == message


# ---------------------------------------------------------------------------------------------
# Sprig


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '{{ trim "  a  " }}|{{ trimAll "$" "$a$" }}|'
            '{{ trimPrefix "v" "v1" }}|{{ trimSuffix ".0" "1.0" }}',
            "a|a|1|1",
            id="trims",
        ),
        pytest.param(
            '{{ upper "a" }}{{ lower "B" }} {{ title "hello world-x don\'t" }} {{ untitle "Abc" }}',
            "Ab Hello World-X Don'T abc",
            id="case",
        ),
        pytest.param(
            '{{ repeat 3 "ab" }} {{ substr 1 3 "hello" }} {{ nospace "a b\tc" }}',
            "ababab el abc",
            id="repeat-substr-nospace",
        ),
        pytest.param(
            '{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ abbrev 5 "hello world" }}',
            "abc ef he...",
            id="trunc-abbrev",
        ),
        pytest.param(
            '{{ initials "first try" }} {{ "a-b_c d" | camelcase }}', "ft ABCD", id="initials-camelcase"
        ),
        pytest.param(
            '{{ snakecase "HTTPServer" }} {{ snakecase "NoHTTPS" }} {{ snakecase "http2xx" }} '
            '{{ kebabcase "Bld4Floor3rd" }} {{ snakecase "GO PATH" }}',
            "http_server no_https http_2xx bld4-floor-3rd go_path",
            id="snakecase-kebabcase",
        ),
        pytest.param(
            '{{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }} {{ hasSuffix "x" "abc" }}',
            "true true false",
            id="contains-prefix-suffix",
        ),
        pytest.param(
            '{{ quote "a" 1 }} {{ squote "a" }} {{ cat "a" 1 nil "b" }}',
            '"a" "1" \'a\' a 1 b',
            id="quote-cat",
        ),
        pytest.param('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', "  a\n  b|\n  a", id="indent"),
        pytest.param(
            '{{ replace "a" "b" "aaa" }} {{ plural "one" "many" 2 }} {{ wrap 5 "aaa bbb ccc" }}',
            "bbb many aaa\nbbb\nccc",
            id="replace-plural-wrap",
        ),
        pytest.param(
            '{{ splitList "," "a,b" }} {{ (split "," "a,b")._1 }} {{ (splitn "," 2 "a,b,c")._1 }}',
            "[a b] b b,c",
            id="split",
        ),
        pytest.param(
            '{{ join "-" (list 1 "a" nil) }} {{ sortAlpha (list "b" "a") }} {{ toStrings (list 1 2) }}',
            "1-a [a b] [1 2]",
            id="join-sort",
        ),
        pytest.param(
            '{{ default "d" "" }} {{ default "d" "x" }} {{ default "d" .Nope }} {{ empty 0 }} '
            '{{ coalesce 0 "" "c" }} {{ ternary "y" "n" false }}',
            "d x d true c n",
            id="defaults",
        ),
        pytest.param(
            "{{ first (list 1 2 3) }} {{ rest (list 1 2 3) }} {{ last (list 1 2) }} {{ initial (list 1 2) }}"
            " {{ first list }}",
            "1 [2 3] 2 [1] <nil>",
            id="list-ends",
        ),
        pytest.param(
            "{{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ concat (list 1) (list 2 3) }} "
            "{{ reverse (list 1 2) }}",
            "[1 2] [0 1] [1 2 3] [2 1]",
            id="list-building",
        ),
        pytest.param(
            '{{ uniq (list 1 1 "1" 2) }} {{ without (list 1 2 3) 2 }} {{ has 2 (list 1 2) }} '
            '{{ compact (list 0 "a" "" nil) }} {{ slice (list 1 2 3) 1 }}',
            "[1 1 2] [1 3] true [a] [2 3]",
            id="list-filtering",
        ),
        pytest.param(
            '{{ $d := dict "a" 1 "b" 2 }}{{ get $d "a" }} {{ hasKey $d "c" }} {{ keys $d }} '
            '{{ values $d }} {{ pick $d "b" }} {{ omit $d "b" }} {{ set $d "c" 3 }} {{ unset $d "a" }}',
            "1 false [a b] [1 2] map[b:2] map[a:1] map[a:1 b:2 c:3] map[b:2 c:3]",
            id="dicts",
        ),
        pytest.param(
            '{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}',
            "map[a:1 b:3 n:map[x:1 y:2]]",
            id="merge-keeps-the-destination",
        ),
        pytest.param(
            "{{ add 1 2 3 }} {{ add1 1 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} "
            "{{ mod -7 2 }}",
            "6 2 -2 24 3 -3 -1",
            id="integer-arithmetic",
        ),
        pytest.param(
            "{{ max 1 5 3 }} {{ min 4 2 }} {{ floor 1.5 }} {{ ceil 1.2 }} {{ round 3.14159 2 }} "
            '{{ int "42" }} {{ int64 "0x10" }} {{ float64 "1.5" }} {{ atoi "x" }}',
            "5 2 1 2 3.14 42 16 1.5 0",
            id="math-and-conversion",
        ),
        pytest.param(
            '{{ toString 1.5 }} {{ toJson (dict "a" (list 1 "<b>" nil)) }} {{ fromJson "{\\"a\\": 1}" }}',
            "map[a:1]",
            id="json",
        ),
        pytest.param(
            '{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ sha1sum "a" | trunc 8 }} {{ adler32sum "a" }}',
            "aGVsbG8= hello 86f7e437 6422626",
            id="encoding",
        ),
        pytest.param(
            '{{ regexMatch "^v[0-9]+$" "v12" }} {{ regexFind "[0-9]+" "ab12cd34" }} '
            '{{ regexFindAll "a*" "baaac" -1 }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} '
            '{{ regexReplaceAllLiteral "a" "aba" "$1" }} {{ regexSplit "z+" "pizza" -1 }}',
            "true 12 [ aaa ] -W-xxW- $1b$1 [pi a]",
            id="regexes",
        ),
        pytest.param(
            '{{ semverCompare "^1.2.0" "1.3" }} {{ semverCompare "<1.0.0" "v1.2.3" }}',
            "true false",
            id="semver",
        ),
        pytest.param(
            '{{ base "a/b.txt" }} {{ dir "a/b.txt" }} {{ ext "a/b.txt" }} {{ clean "a//b/../c" }}',
            "b.txt a .txt a/c",
            id="paths",
        ),
        pytest.param(
            "{{ typeOf 1 }} {{ kindOf (list) }} {{ typeOf (add 1 1) }}", "int slice int64", id="reflection"
        ),
        pytest.param(
            "{{ seq 3 }} {{ until 3 }} {{ untilStep 0 10 4 }}", "1 2 3 [0 1 2] [0 4 8]", id="sequences"
        ),
    ],
)
def test_sprig_functions_return_what_sprig_returns(text: str, expected: str) -> None:
    if "toJson" in text:
        assert render(text) == '1.5 {"a":[1,"\\u003cb\\u003e",null]} ' + expected
        return
    assert render(text) == expected


def test_a_sprig_panic_is_reported_as_an_error_calling_the_function() -> None:
    assert failure("{{ first 3 }}") == (
        'template: t:1:3: executing "t" at <first 3>: error calling first: Cannot find first on type int'
    )


def test_a_bad_regexp_panics_with_go_regexp_words() -> None:
    assert failure('{{ regexFind "[" "x" }}').endswith(
        "error calling regexFind: regexp: Compile(`[`): error parsing regexp: missing closing ]: `[`"
    )


def test_pretty_json_indents_with_two_spaces() -> None:
    assert (
        render('{{ dict "a" (list 1 2) "b" (dict) | toPrettyJson }}')
        == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {}\n}'
    )


def test_a_sprig_map_function_refuses_a_typed_map(data: GoStruct) -> None:
    assert failure("{{ keys .Values }}", data).endswith(
        "wrong type for value; expected map[string]interface {}; got map[string]string"
    )


def test_functions_given_at_execution_replace_the_parsed_ones() -> None:
    template = gotemplate.parse("{{ upper .A }}", "t")
    assert template.execute({"A": "x"}, {"upper": lambda s: s + "!"}) == "x!"
