"""The Setters update strategy: which files are read, which fields are set and how they are
written, and the change records for commit messages.

Behaviour learned from image-automation-controller `internal/update` (setters.go, filereader.go,
filter.go, result.go, update_test.go and testdata) and kyaml; the fixtures are our own.
"""

from __future__ import annotations

import pathlib

import pytest

from gitops_sim.images import setters
from gitops_sim.model.fluxapi import image

DIGEST = "sha256:" + "4e" * 32
APP = setters.PolicyName("flux-system", "app")
PINNED = setters.PolicyName("flux-system", "pinned")
POLICIES = {
    APP: image.ImageRef(name="ghcr.io/acme/app", tag="1.4.2"),
    PINNED: image.ImageRef(name="ghcr.io/acme/worker", tag="2.0.0", digest=DIGEST),
}


def run(files: dict[str, bytes]) -> setters.Result:
    return setters.update(files, POLICIES)


def one(text: str, path: str = "app.yaml") -> str:
    """The new text of a single file (which must change)."""
    return run({path: text.encode()}).files[path].decode()


DEPLOYMENT = """\
# The web front end.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop

spec:
    replicas: 2
    template:
        spec:
            containers:
                -   name: web
                    # keep this comment
                    image: "ghcr.io/acme/app:1.3.0"   # {"$imagepolicy": "flux-system:app"}
                    args: [--port, "8080"]
                -   name: sidecar
                    image: 'ghcr.io/acme/worker:1.9.9' # {"$imagepolicy": "flux-system:pinned"}
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            image: ghcr.io/acme/app:1.3.0 # {"$imagepolicy": "flux-system:app"}
          restartPolicy: OnFailure
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
images:
  - name: app
    newName: ghcr.io/acme/old # {"$imagepolicy": "flux-system:app:name"}
    newTag: 1.3.0 # {"$imagepolicy": "flux-system:app:tag"}
  - name: worker
    newTag: "1.9.9" # {"$imagepolicy": "flux-system:pinned:tag"}
    digest: sha256:0000 # {"$imagepolicy": "flux-system:pinned:digest"}
"""


# ---------------------------------------------------------------------------------------------
# Exact bytes


def test_a_deployment_keeps_every_byte_but_the_marked_values() -> None:
    expected = DEPLOYMENT.replace('"ghcr.io/acme/app:1.3.0"', '"ghcr.io/acme/app:1.4.2"').replace(
        "'ghcr.io/acme/worker:1.9.9'", f"'ghcr.io/acme/worker:2.0.0@{DIGEST}'"
    )
    assert one(DEPLOYMENT) == expected


def test_a_cronjob_image_in_a_compact_sequence_is_set_plain() -> None:
    assert one(CRONJOB) == CRONJOB.replace("app:1.3.0 #", "app:1.4.2 #")


def test_a_kustomization_images_entry_gets_name_tag_and_digest_parts() -> None:
    assert one(KUSTOMIZATION, "kustomization.yaml") == (
        KUSTOMIZATION.replace("ghcr.io/acme/old", "ghcr.io/acme/app")
        .replace("newTag: 1.3.0", "newTag: 1.4.2")
        .replace('"1.9.9"', '"2.0.0"')
        .replace("sha256:0000", DIGEST)
    )


def test_a_file_named_Kustomization_is_read() -> None:
    result = run({"overlay/Kustomization": KUSTOMIZATION.encode()})
    assert list(result.files) == ["overlay/Kustomization"]


def test_documents_separators_and_blank_lines_stay_as_written() -> None:
    text = "---\n" + CRONJOB + "\n---   # the service\n\napiVersion: v1\nkind: Service\n...\n"
    assert one(text) == text.replace("app:1.3.0 #", "app:1.4.2 #")


def test_crlf_line_endings_are_kept() -> None:
    text = CRONJOB.replace("\n", "\r\n")
    assert one(text) == text.replace("app:1.3.0 #", "app:1.4.2 #")


def test_a_marked_scalar_in_an_anchor_is_set_once_and_its_alias_left_as_written() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\ndata:\n"
        '  main: &img ghcr.io/acme/app:1.0.0 # {"$imagepolicy": "flux-system:app"}\n'
        "  copy: *img\n"
    )
    result = run({"cm.yaml": text.encode()})
    assert result.files["cm.yaml"].decode() == text.replace("1.0.0", "1.4.2")
    assert len(result.changes()) == 1


# ---------------------------------------------------------------------------------------------
# How the new value is written


@pytest.mark.parametrize(
    ("original", "tag", "written"),
    [
        pytest.param("v1", "v2", "v2", id="plain-stays-plain"),
        pytest.param("'v1'", "v2", "'v2'", id="single-quotes-stay"),
        pytest.param('"v1"', "v2", '"v2"', id="double-quotes-stay"),
        pytest.param("v1", "1.0", '"1.0"', id="a-float-looking-tag-is-double-quoted"),
        pytest.param("v1", "10", '"10"', id="an-integer-looking-tag-is-double-quoted"),
        pytest.param("v1", "yes", '"yes"', id="a-yaml-1.1-boolean-is-double-quoted"),
        pytest.param("v1", "2024-05-01", '"2024-05-01"', id="a-date-is-double-quoted"),
        pytest.param("'v1'", "1.1", "'1.1'", id="single-quotes-survive-a-number"),
        pytest.param("5", "v6", "!!int v6", id="a-plain-number-keeps-its-tag"),
        pytest.param("5", "6", '"6"', id="a-plain-number-replaced-by-a-number-is-quoted"),
        pytest.param("~", "1.0", "!!null 1.0", id="a-null-keeps-its-tag-unquoted"),
    ],
)
def test_the_new_tag_is_written_as_kyaml_writes_it(original: str, tag: str, written: str) -> None:
    policies = {APP: image.ImageRef(name="app", tag=tag)}
    text = f'newTag: {original} # {{"$imagepolicy": "flux-system:app:tag"}}\n'
    result = setters.update({"k.yaml": text.encode()}, policies)
    assert (
        result.files["k.yaml"].decode() == f'newTag: {written} # {{"$imagepolicy": "flux-system:app:tag"}}\n'
    )


def test_a_digest_setter_without_a_digest_writes_an_empty_quoted_string() -> None:
    text = 'digest: sha256:0000 # {"$imagepolicy": "flux-system:app:digest"}\n'
    assert one(text) == 'digest: "" # {"$imagepolicy": "flux-system:app:digest"}\n'


def test_an_unchanged_marked_value_is_rewritten_as_kyaml_would_when_its_file_changes() -> None:
    policies = {APP: image.ImageRef(name="app", tag="1.0")}
    text = (
        'a: 1.0 # {"$imagepolicy": "flux-system:app:tag"}\n'
        'b: old # {"$imagepolicy": "flux-system:app:name"}\n'
    )
    result = setters.update({"v.yaml": text.encode()}, policies)
    assert result.files["v.yaml"].decode() == (
        'a: "1.0" # {"$imagepolicy": "flux-system:app:tag"}\n'
        'b: app # {"$imagepolicy": "flux-system:app:name"}\n'
    )
    assert [c.setter for c in result.changes()] == ["flux-system:app:name"]


# ---------------------------------------------------------------------------------------------
# Markers


def test_a_marker_for_an_unknown_policy_is_left_alone() -> None:
    text = CRONJOB.replace("flux-system:app", "other-ns:app")
    assert run({"cron.yaml": text.encode()}) == setters.Result({}, ())


def test_a_marker_with_text_after_the_json_is_not_a_marker() -> None:
    text = CRONJOB.replace('"flux-system:app"}', '"flux-system:app"} please')
    assert run({"cron.yaml": text.encode()}).files == {}


def test_the_long_ref_form_of_a_marker_is_read_once_the_file_passes_the_token_screen() -> None:
    text = '# "$imagepolicy"\nimage: old # {"$ref": "#/definitions/io.k8s.cli.setters.flux-system:app"}\n'
    assert one(text) == text.replace("old", "ghcr.io/acme/app:1.4.2")


def test_a_marker_after_a_flow_collection_sets_nothing() -> None:
    text = '# "$imagepolicy"\ncontainers: [{name: c, image: old}] # {"$imagepolicy": "flux-system:app"}\n'
    assert run({"d.yaml": text.encode()}).files == {}


def test_a_file_whose_values_are_current_is_not_rewritten() -> None:
    text = CRONJOB.replace("app:1.3.0", "app:1.4.2")
    assert run({"cron.yaml": text.encode()}) == setters.Result({}, ())


def test_a_value_equal_but_differently_quoted_is_no_change() -> None:
    text = 'image: \'ghcr.io/acme/app:1.4.2\' # {"$imagepolicy": "flux-system:app"}\n'
    assert run({"d.yaml": text.encode()}).files == {}


# ---------------------------------------------------------------------------------------------
# Which files


@pytest.mark.parametrize(
    ("path", "read"),
    [
        pytest.param("a.yaml", True, id="yaml"),
        pytest.param("deep/a.yml", True, id="yml"),
        pytest.param(".github/workflows/ci.yaml", True, id="hidden-folder"),
        pytest.param(".yaml", True, id="hidden-file-named-by-its-extension"),
        pytest.param("base/Kustomization", True, id="Kustomization"),
        pytest.param("a.YAML", False, id="upper-case-extension"),
        pytest.param("a.json", False, id="json"),
        pytest.param("kustomization", False, id="lower-case-Kustomization"),
        pytest.param("a.yaml.bak", False, id="backup"),
    ],
)
def test_only_yaml_and_Kustomization_files_are_read(path: str, read: bool) -> None:
    assert setters.is_candidate(path) is read
    assert (path in run({path: CRONJOB.encode()}).files) is read


def test_a_file_without_the_quoted_token_is_not_read() -> None:
    text = CRONJOB.replace('{"$imagepolicy": "flux-system:app"}', "{$imagepolicy: flux-system:app}")
    assert run({"cron.yaml": text.encode()}) == setters.Result({}, ())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('image: [old # {"$imagepolicy": "flux-system:app"}\n', id="yaml-error"),
        pytest.param(CRONJOB + "\n--- extra\n" + CRONJOB, id="separator-with-content"),
        pytest.param('- image: old # {"$imagepolicy": "flux-system:app"}\n', id="sequence-document"),
        pytest.param(
            CRONJOB.replace("metadata: {name: nightly, namespace: shop}", "metadata: x"), id="bad-meta"
        ),
    ],
)
def test_a_screened_file_that_does_not_parse_is_a_problem_file_not_an_error(text: str) -> None:
    result = run({"bad.yaml": text.encode(), "cron.yaml": CRONJOB.encode()})
    assert result.problem_files == ("bad.yaml",)
    assert list(result.files) == ["cron.yaml"]


# ---------------------------------------------------------------------------------------------
# The result


def test_the_result_lists_changes_per_file_and_object_in_document_order() -> None:
    result = run({"cron.yaml": CRONJOB.encode(), "kustomization.yaml": KUSTOMIZATION.encode()})
    cron = setters.ObjectId("batch/v1", "CronJob", "shop", "nightly")
    kust = setters.ObjectId("kustomize.config.k8s.io/v1beta1", "Kustomization")
    assert result.file_changes == (
        setters.FileChanges(
            "cron.yaml",
            (
                setters.ObjectChanges(
                    cron,
                    (setters.Change("ghcr.io/acme/app:1.3.0", "ghcr.io/acme/app:1.4.2", "flux-system:app"),),
                ),
            ),
        ),
        setters.FileChanges(
            "kustomization.yaml",
            (
                setters.ObjectChanges(
                    kust,
                    (
                        setters.Change("ghcr.io/acme/old", "ghcr.io/acme/app", "flux-system:app:name"),
                        setters.Change("1.3.0", "1.4.2", "flux-system:app:tag"),
                        setters.Change("1.9.9", "2.0.0", "flux-system:pinned:tag"),
                        setters.Change("sha256:0000", DIGEST, "flux-system:pinned:digest"),
                    ),
                ),
            ),
        ),
    )


def test_objects_merge_across_files_and_changes_are_not_repeated() -> None:
    result = run({"a/cron.yaml": CRONJOB.encode(), "b/cron.yaml": CRONJOB.encode()})
    change = setters.Change("ghcr.io/acme/app:1.3.0", "ghcr.io/acme/app:1.4.2", "flux-system:app")
    assert result.objects() == (
        setters.ObjectChanges(setters.ObjectId("batch/v1", "CronJob", "shop", "nightly"), (change, change)),
    )
    assert result.changes() == (change,)


def test_an_invalid_latest_image_fails_the_update_in_flux_words() -> None:
    policies = {APP: image.ImageRef(name="Ghcr.io/Acme/App", tag="1.0")}
    with pytest.raises(setters.UpdateError) as caught:
        setters.update({}, policies)
    assert str(caught.value) == (
        'encountered invalid image ref "Ghcr.io/Acme/App:1.0": '
        "could not parse reference: Ghcr.io/Acme/App:1.0"
    )


# ---------------------------------------------------------------------------------------------
# Reading a folder


def test_reading_a_folder_walks_hidden_folders_and_skips_links_leaving_it(tmp_path: pathlib.Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(CRONJOB)
    root = tmp_path / "repo"
    (root / ".hidden").mkdir(parents=True)
    (root / ".hidden" / "cron.yaml").write_text(CRONJOB)
    (root / "plain.yaml").write_text("a: 1\n")
    (root / "notes.txt").write_text(CRONJOB)
    (root / "inside.yaml").symlink_to(root / ".hidden" / "cron.yaml")
    (root / "escape.yaml").symlink_to(outside)
    (root / "dangling.yaml").symlink_to(root / "missing.yaml")
    assert setters.read_folder(root) == {
        ".hidden/cron.yaml": CRONJOB.encode(),
        "inside.yaml": CRONJOB.encode(),
    }


def test_reading_a_missing_folder_fails_in_flux_words(tmp_path: pathlib.Path) -> None:
    with pytest.raises(setters.UpdateError, match="^walking path for files: "):
        setters.read_folder(tmp_path / "nope")


# ---------------------------------------------------------------------------------------------
# The markers, for an explanation


SCREENED = "kind: ConfigMap\nnote: '\"$imagepolicy\" in a value lets the file through the screen'\n"


def marker_lines(text: str, path: str = "m.yaml") -> list[tuple[int, str, str, setters.Outcome, str]]:
    found = setters.markers({path: text.encode()}, POLICIES)
    return [(m.line, m.setter, m.value, m.outcome, m.new_value or m.detail) for m in found]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            'image: ghcr.io/acme/app:1.0.0 # {"$imagepolicy": "flux-system:app"}',
            ("flux-system:app", "ghcr.io/acme/app:1.0.0", setters.Outcome.CHANGED, "ghcr.io/acme/app:1.4.2"),
            id="changed",
        ),
        pytest.param(
            'tag: "1.4.2" # {"$imagepolicy": "flux-system:app:tag"}',
            ("flux-system:app:tag", "1.4.2", setters.Outcome.CURRENT, ""),
            id="current",
        ),
        pytest.param(
            'image: old # {"$imagepolicy": "apps:app"}',
            (
                "apps:app",
                "old",
                setters.Outcome.UNKNOWN_POLICY,
                'namespace "apps" differs from the policies\' (flux-system): '
                "a marker names the policy's namespace",
            ),
            id="unknown-policy-in-another-namespace",
        ),
        pytest.param(
            'image: old # {"$imagepolicy": "flux-system:ap"}',
            (
                "flux-system:ap",
                "old",
                setters.Outcome.UNKNOWN_POLICY,
                "no policy flux-system:ap among the 2 given",
            ),
            id="unknown-policy-misspelt",
        ),
        pytest.param(
            'tag: old # {"$imagepolicy": "flux-system:app:version"}',
            (
                "flux-system:app:version",
                "old",
                setters.Outcome.UNKNOWN_POLICY,
                '":version" is not a setter suffix: use :tag, :name or :digest',
            ),
            id="unknown-suffix",
        ),
        pytest.param(
            "image: old # {'$imagepolicy': 'flux-system:app'}",
            (
                "flux-system:app",
                "old",
                setters.Outcome.NOT_A_MARKER,
                "not valid JSON (Expecting property name enclosed in double quotes); "
                "JSON wants double quotes",
            ),
            id="single-quotes",
        ),
        pytest.param(
            'image: old # {"$imagepolicy": "flux-system:app"',
            (
                "flux-system:app",
                "old",
                setters.Outcome.NOT_A_MARKER,
                "not valid JSON (Expecting ',' delimiter)",
            ),
            id="missing-brace",
        ),
        pytest.param(
            'script: | # {"$imagepolicy": "flux-system:app"}\n  run it',
            (
                "flux-system:app",
                "run it\n",
                setters.Outcome.LEFT_ALONE,
                "on a block scalar (| or >), which Flux does not set",
            ),
            id="block-scalar",
        ),
        pytest.param(
            'images: # {"$imagepolicy": "flux-system:app"}\n  app: old',
            (
                "flux-system:app",
                "",
                setters.Outcome.LEFT_ALONE,
                "not after a scalar value on its line "
                "(a key, an empty value, a collection or a comment line)",
            ),
            id="on-a-key",
        ),
    ],
)
def test_each_marker_is_reported_with_what_update_does_with_it(
    line: str, expected: tuple[str, str, setters.Outcome, str]
) -> None:
    assert marker_lines(SCREENED + line + "\n") == [(3, *expected)]


def test_the_markers_of_files_come_in_file_and_line_order_with_the_values_update_writes() -> None:
    files = {"k.yaml": KUSTOMIZATION.encode(), "cron.yaml": CRONJOB.encode()}
    found = setters.markers(files, POLICIES)
    assert [(m.path, m.line, m.outcome) for m in found] == [
        ("cron.yaml", 12, setters.Outcome.CHANGED),
        ("k.yaml", 7, setters.Outcome.CHANGED),
        ("k.yaml", 8, setters.Outcome.CHANGED),
        ("k.yaml", 10, setters.Outcome.CHANGED),
        ("k.yaml", 11, setters.Outcome.CHANGED),
    ]
    written = [(c.old_value, c.new_value, c.setter) for c in run(files).changes()]
    assert [(m.value, m.new_value, m.setter) for m in found] == written


def test_a_hash_inside_a_quoted_value_does_not_hide_the_marker_after_it() -> None:
    text = 'note: "see #1 {\\"$imagepolicy\\"}" # {"$imagepolicy": "flux-system:app"}\n'
    assert [m.outcome for m in setters.markers({"n.yaml": text.encode()}, POLICIES)] == [
        setters.Outcome.CHANGED
    ]


def test_a_problem_file_reports_its_marker_lines_and_why_it_is_skipped() -> None:
    assert marker_lines('- image: old # {"$imagepolicy": "flux-system:app"}\n') == [
        (
            1,
            "flux-system:app",
            "",
            setters.Outcome.PROBLEM_FILE,
            "the file is skipped: a document is not a mapping",
        )
    ]


def test_a_file_whose_markers_all_lack_double_quotes_is_never_read() -> None:
    assert marker_lines("image: old # {'$imagepolicy': 'flux-system:app'}\n") == [
        (
            1,
            "flux-system:app",
            "",
            setters.Outcome.NOT_A_MARKER,
            'the file does not contain "$imagepolicy" (double quotes), so Flux does not read it',
        )
    ]


def test_files_update_does_not_read_by_name_have_no_markers() -> None:
    assert setters.markers({"deploy.json": CRONJOB.encode(), "notes.txt": CRONJOB.encode()}, POLICIES) == ()
