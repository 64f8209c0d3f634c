"""Hostile scenario files (issue 11): each file in corpus/ is refused with file:line:column and
the field, by the loader and through the CLI (exit 2, no traceback); a broken file does not stop
the others in a folder, nor pytest's collection; what is printed from a file is shown literally;
a run is bounded in virtual time (--horizon) and wall time (--max-wall)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.model import yamlsafe
from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.located import LoadError
from gitops_sim.scenario.steps import registry

pytest_plugins = ["pytester"]

CORPUS = Path(__file__).parent / "corpus"
SCENARIO_STEPS = "steps[0].expect.within"
DECLARED = "apiVersion: gitops-sim/v1alpha1\nkind: Scenario\n"
"""What a scenario file in a folder starts with, for discovery to find it (two lines)."""
GOOD = """\
name: the default namespace exists
steps:
  - expect: {object: Namespace/default, fields: {status.phase: Active}}
"""
SYNCED = """\
name: synced
repos:
  fleet: {url: https://github.com/acme/fleet, files: {apps/a.yaml: "a: 1"}}
apply:
  - |
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: fleet, namespace: flux-system}
    spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}
"""
GO_MAX = "longer than Go's maximum of 2562047h47m16.854s"
NINES = "'9999999999999999999999999999999999999999…'"
OUTSIDE = "is outside the scenario file's folder"
START_RANGE = "start: expected a time from 1970-01-01T00:00:00Z to 9000-01-01T00:00:00Z; got"
DASH = "a branch or tag name may not be empty or start with '-'"
REF_RULES = (
    "is not a valid git ref name (no spaces, control characters, '~^:?*[\\', '..', '@{', '//', "
    "and no component starting with '.' or ending with '.lock')"
)
STEPS = ", ".join(registry.declared())  # every step key, in the order they were declared

REFUSED = [
    ("alias-bomb.yaml", 9, 36, "invalid YAML: the document expands to more than 1,000,000 values (aliases)"),
    (
        "bad-commit-delete.yaml",
        4,
        36,
        "steps[0].commit.delete[0]: file paths must be relative to the repository root "
        "(no leading '/', no drive, no '\\')",
    ),
    (
        "bad-commit-path.yaml",
        4,
        48,
        "steps[0].commit.files.../../etc/x: a file path may not contain '..', '.' or empty components",
    ),
    ("bad-commit-tag.yaml", 4, 47, f"steps[0].commit.tag: 'v1 ..x' {REF_RULES}"),
    (
        "bad-date.yaml",
        2,
        8,
        "start: expected an RFC 3339 time such as 2025-01-01T00:00:00Z; got '2024-13-45'",
    ),
    (
        "bad-file-path.yaml",
        5,
        26,
        "repos.fleet.files..git/config: a file path may not reach into '.git' (git's own folder)",
    ),
    (
        "bad-repo-name.yaml",
        3,
        14,
        "repos.../escape: a repository name is letters, digits, '.', '_' and '-', "
        "not starting with '.' or '-'",
    ),
    ("binary.yaml", 1, 10, "the file is not UTF-8 text (byte 0xe9)"),
    (
        "binary-tag.yaml",
        3,
        4,
        "invalid YAML: unsupported value of tag 'tag:yaml.org,2002:binary' "
        "(expected a string, number, boolean or null)",
    ),
    ("cyclic-alias.yaml", 2, 12, "invalid YAML: alias *a refers to its own anchor (a cycle)"),
    ("dash-branch.yaml", 3, 55, f"repos.fleet.branch: {DASH}"),
    ("dash-tag.yaml", 4, 30, f"steps[0].tag.name: {DASH}"),
    ("deep-150.yaml", 3, 106, "invalid YAML: the document nests deeper than 100 levels"),
    ("deep-1000.yaml", 3, 1006, "invalid YAML: exceeded maximum nesting depth"),
    ("deep-5000.yaml", 3, 1006, "invalid YAML: exceeded maximum nesting depth"),
    ("delete-not-list.yaml", 3, 35, "steps[0].commit.delete: expected a list; got str '.git'"),
    ("description-map.yaml", 2, 14, "description: expected a string; got a mapping"),
    ("dir-outside.yaml", 3, 52, f"repos.fleet.dir: '../..' {OUTSIDE}"),
    ("file-absolute.yaml", 3, 12, "apply[0].file: expected a path relative to the scenario file's folder"),
    ("file-outside.yaml", 3, 12, f"apply[0].file: '../../../../../../../../etc/hostname' {OUTSIDE}"),
    ("huge-advance.yaml", 3, 14, f"steps[0].advance: invalid duration {NINES}: {GO_MAX}"),
    ("huge-kubelet.yaml", 2, 17, f"kubelet.pull: invalid duration {NINES}: {GO_MAX}"),
    ("huge-within.yaml", 3, 46, f"{SCENARIO_STEPS}: invalid duration {NINES}: {GO_MAX}"),
    ("impossible-start.yaml", 2, 8, f"{START_RANGE} '0001-01-01T00:00:00Z'"),
    (
        "int-abc.yaml",
        2,
        7,
        "invalid YAML: cannot decode !!str `abc` as a !!int",
    ),
    ("lone-surrogate.yaml", 1, 14, "invalid YAML: found invalid Unicode character escape code"),
    (
        "manifest-cyclic-alias.yaml",
        7,
        15,
        "steps[0].apply: invalid YAML in manifest: alias *a refers to its own anchor (a cycle)",
    ),
    ("manifest-name-list.yaml", 3, 5, "apply[0]: manifest metadata.name must be a string; got a list"),
    ("markup-key.yaml", 3, 16, f"steps[0].[/red]: unknown step; expected one of: {STEPS}"),
    ("nan.yaml", 2, 7, "invalid YAML: '.nan' is not a finite number (JSON has no NaN or Infinity)"),
    ("negative-advance.yaml", 3, 14, "steps[0].advance: a duration here may not be negative; got '-10m'"),
    ("negative-kubelet.yaml", 2, 18, "kubelet.ready: a duration here may not be negative; got '-1s'"),
    ("negative-within.yaml", 3, 46, f"{SCENARIO_STEPS}: a duration here may not be negative; got '-1m'"),
    (
        "over-horizon.yaml",
        4,
        5,
        "steps[1].advance: the scenario's virtual time would reach 9000h0m0s, "
        "beyond the horizon of 8760h0m0s (--horizon)",
    ),
    (
        "python-name-tag.yaml",
        1,
        7,
        "invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/name:os.system'",
    ),
    ("set-tag.yaml", 4, 5, "invalid YAML: unsupported tag 'tag:yaml.org,2002:set' on a mapping"),
    (
        "start-not-rfc3339.yaml",
        2,
        8,
        "start: expected an RFC 3339 time such as 2025-01-01T00:00:00Z; got '2024-01-01'",
    ),
    ("start-out-of-range.yaml", 2, 8, f"{START_RANGE} '9500-01-01T00:00:00Z'"),
    ("unknown-tag.yaml", 3, 14, "invalid YAML: could not determine a constructor for the tag '!shell'"),
    (
        "within-100-years.yaml",
        3,
        49,
        f"{SCENARIO_STEPS}: the scenario's virtual time would reach 876000h0m0s, "
        "beyond the horizon of 8760h0m0s (--horizon)",
    ),
    ("year-10000.yaml", 2, 8, f"{START_RANGE} '9999-12-31T00:00:00Z'"),
]


def test_every_corpus_file_has_its_expected_refusal() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(name for name, *_ in REFUSED)


@pytest.mark.parametrize(("name", "line", "column", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_hostile_scenario_file_is_refused_with_its_file_line_and_column(
    name: str, line: int, column: int, message: str
) -> None:
    path = CORPUS / name
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value) == f"{path}:{line}:{column}: {message}"


PURE_PYTHON = {
    "deep-1000.yaml": (3, 106, "invalid YAML: the document nests deeper than 100 levels"),
    "deep-5000.yaml": (3, 106, "invalid YAML: the document nests deeper than 100 levels"),
    "lone-surrogate.yaml": (
        1,
        7,
        "invalid YAML: a string may not contain a lone surrogate (such as \\ud800)",
    ),
}
"""Where PyYAML's own parser (no libyaml) refuses a file in other words: libyaml stops at 1,000
levels of nesting before our bound is counted, and refuses a lone surrogate's escape itself."""


@pytest.mark.parametrize(("name", "line", "column", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_hostile_scenario_file_is_refused_the_same_without_libyaml(
    name: str, line: int, column: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlsafe, "WITH_LIBYAML", False)
    line, column, message = PURE_PYTHON.get(name, (line, column, message))
    path = CORPUS / name
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value) == f"{path}:{line}:{column}: {message}"


@pytest.mark.parametrize(("name", "line", "column", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_the_cli_reports_a_hostile_file_and_exits_two_without_a_traceback(
    name: str, line: int, column: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CORPUS / name
    assert cli.main(["run", "-q", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == f"error {path}:{line}:{column}: {message}"
    assert "Traceback" not in out + err


def test_a_broken_file_in_a_folder_is_reported_and_the_others_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-bomb.yaml").write_bytes(DECLARED.encode() + (CORPUS / "alias-bomb.yaml").read_bytes())
    (tmp_path / "b-good.yaml").write_text(DECLARED + GOOD)
    assert cli.main(["run", "-q", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"error {tmp_path / 'a-bomb.yaml'}:11:36: invalid YAML: the document expands" in out
    assert "PASS the default namespace exists" in out
    assert out.rstrip().splitlines()[-1] == "1 passed, 1 failed"


def test_a_folder_where_nothing_loads_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "binary.yaml").write_bytes(DECLARED.encode() + (CORPUS / "binary.yaml").read_bytes())
    (tmp_path / "deep.yaml").write_bytes(DECLARED.encode() + (CORPUS / "deep-5000.yaml").read_bytes())
    assert cli.main(["run", "-q", str(tmp_path)]) == 2
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == "0 passed, 2 failed"


def test_a_name_with_escape_sequences_and_markup_is_printed_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "loud.yaml"
    path.write_text(GOOD.replace("the default namespace exists", '"\\e[31mloud[/red] \\u202e"'))
    assert cli.main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"PASS \\x1b[31mloud[/red] \\u202e  ({path})"
    assert "\x1b" not in out and "\u202e" not in out


def test_list_prints_names_literally(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "loud.yaml"
    path.write_text(GOOD.replace("the default namespace exists", '"[bold]\\rname\\x07"'))
    assert cli.main(["list", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}  [bold]\\x0dname\\x07\n"


def test_a_file_outside_the_scenario_folder_is_not_read_through_a_symlink(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "link.yaml").symlink_to(secret)
    path = tmp_path / "sc" / "scenario.yaml"
    path.write_text("name: x\napply:\n  - {file: link.yaml}\nsteps: []\n")
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value) == f"{path}:3:12: apply[0].file: 'link.yaml' {OUTSIDE}"


def test_a_repository_folder_with_a_symlink_out_of_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sc" / "fleet").mkdir(parents=True)
    (tmp_path / "sc" / "fleet" / "hostname").symlink_to("/etc/hostname")
    path = tmp_path / "sc" / "scenario.yaml"
    path.write_text("name: x\nrepos:\n  fleet: {url: https://github.com/acme/fleet, dir: fleet}\nsteps: []\n")
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    fleet = (tmp_path / "sc" / "fleet").resolve()
    assert str(caught.value) == f"{path}:3:52: repos.fleet.dir: 'hostname' leads outside {fleet} (a symlink)"


def test_a_repository_file_that_is_not_utf8_is_carried_as_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "fleet").mkdir()
    (tmp_path / "fleet" / "logo.png").write_bytes(b"\x89PNG\r\n")
    path = tmp_path / "scenario.yaml"
    path.write_text("name: x\nrepos:\n  fleet: {url: https://github.com/acme/fleet, dir: fleet}\nsteps: []\n")
    assert loader.load(path).repos[0].files == {"logo.png": b"\x89PNG\r\n"}


def test_the_horizon_flag_refuses_a_scenario_asking_for_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("name: long\nsteps:\n  - advance: 90m\n")
    assert cli.main(["validate", "--horizon", "1h", str(path)]) == 2
    assert capsys.readouterr().out.splitlines()[0] == (
        f"error {path}:3:5: steps[0].advance: the scenario's virtual time would reach 1h30m0s, "
        "beyond the horizon of 1h0m0s (--horizon)"
    )


def test_a_scenario_may_not_run_past_year_9999_whatever_the_horizon(tmp_path: Path) -> None:
    path = tmp_path / "late.yaml"
    path.write_text('name: late\nstart: "8999-12-31T00:00:00Z"\nsteps:\n' + "  - advance: 2000000h\n" * 5)
    with pytest.raises(LoadError) as caught:
        loader.load(path, horizon_ms=20_000_000 * 3_600_000)
    assert str(caught.value) == (
        f"{path}:8:5: steps[4].advance: the scenario's virtual time would reach 10000000h0m0s, "
        "past 9999-12-31T23:59:59Z, the last time a timestamp can show"
    )


def test_max_wall_stops_each_scenario_at_its_step_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one.yaml").write_text(DECLARED + GOOD.replace("exists", "exists (one)"))
    (tmp_path / "two.yaml").write_text(DECLARED + GOOD.replace("exists", "exists (two)"))
    assert cli.main(["run", "-q", "--max-wall", "0", str(tmp_path)]) == 1
    out = capsys.readouterr().out.replace("\n", "")
    for which in ("one", "two"):
        assert (
            f"{tmp_path / (which + '.yaml')}:5:5: scenario 'the default namespace exists ({which})' "
            "stopped on steps[0] (expect): over --max-wall 0s of wall time"
        ) in out
    assert out.endswith("0 passed, 2 failed")


def test_the_runner_asks_its_stop_check_between_the_events_of_an_advance(tmp_path: Path) -> None:
    path = tmp_path / "sc.yaml"
    path.write_text(SYNCED + "steps:\n  - advance: 1h\n")
    asked: list[int] = []

    def stop() -> str | None:
        asked.append(1)
        return "enough" if len(asked) > 3 else None

    outcome = runner.run(loader.load(path), tmp_path / "run", stop=stop)
    assert str(outcome.failure) == f"{path}:11:5: scenario 'synced' stopped on steps[0] (advance): enough"
    assert 0 < outcome.virtual_ms < 3_600_000


def test_pytest_reports_a_hostile_scenario_as_that_items_failure(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"scenarios/ok": DECLARED + GOOD})
    bomb, binary = (CORPUS / "alias-bomb.yaml").read_bytes(), (CORPUS / "binary.yaml").read_bytes()
    (pytester.path / "scenarios" / "bomb.yaml").write_bytes(DECLARED.encode() + bomb)
    (pytester.path / "scenarios" / "binary.yaml").write_bytes(DECLARED.encode() + binary)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*scenarios/binary.yaml:3:10: the file is not UTF-8 text (byte 0xe9)",
            "*scenarios/bomb.yaml:11:36: invalid YAML: the document expands to more than 1,000,000 values*",
        ],
        consecutive=False,
    )
