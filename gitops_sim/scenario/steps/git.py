"""The git steps: `commit` to a scenario repository, and `tag` a commit.

    commit: {repo, message, branch, dir: folder, files: {path: text or null to delete}, delete: [paths],
             author, tag, before-next-push: true,
             sops: {age: recipient or [recipients], files: [paths], encrypted-regex | encrypted-suffix |
                    unencrypted-regex | unencrypted-suffix: rule, mac-only-encrypted: true}}
        `dir`: a folder beside the scenario whose files replace or add to the tree at the same
        paths (the rest of the tree stays); `files` and `delete` apply after it.
        `before-next-push`: the commit lands just as the next push to the repository begins
        (someone racing an automation's push).
        `sops`: the listed files of this commit are committed encrypted as `sops encrypt --age`
        writes them (format by extension: YAML, JSON, `.env`, else binary), for the age
        recipients given (public keys; the private key goes in a Secret the scenario applies).
        The encryption draws from the run's seed, so a run stays reproducible, and protects
        nothing: it is for simulations only.
    tag: {repo, name, ref (a branch or a commit), message (annotated when set)}

Declares the steps (schema side); `steps.actions.git` runs them. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitops_sim.scenario.located import LList, Location
from gitops_sim.scenario.steps import fields, registry, shapes
from gitops_sim.sources import gitnames

if TYPE_CHECKING:  # SOPS and age (the `cryptography` package) load only for a `sops:` key
    from gitops_sim.model import sops


@dataclass(frozen=True, slots=True)
class Encrypt:
    """Which files of a commit are committed SOPS-encrypted, for whom, and by which rule."""

    recipients: tuple[str, ...]
    files: tuple[str, ...]
    rules: sops.Rules


@dataclass(frozen=True, slots=True)
class Commit(registry.Action):
    repo: str
    message: str
    branch: str | None
    files: dict[str, str | bytes | None]
    author: tuple[str, str] | None
    tag: str | None = None  # tag the new commit (lightweight)
    before_next_push: bool = False  # made as the next push to the repository begins
    sops: Encrypt | None = None  # files committed encrypted with SOPS


@dataclass(frozen=True, slots=True)
class Tag(registry.Action):
    repo: str
    name: str
    target: str | None  # a branch or a commit; None: the default branch's head
    message: str | None  # annotated when set


def _parse_commit(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Commit:
    spec = fields.mapping(
        value,
        vloc,
        vwhere,
        ("repo", "message", "branch", "dir", "files", "delete", "author", "tag", "before-next-push", "sops"),
        required=("repo",),
    )
    changes: dict[str, str | bytes | None] = {}
    if "dir" in spec:  # the folder's files replace or add to the tree; the rest of the tree stays
        where = f"{vwhere}.dir"
        changes.update(
            fields.read_folder(
                ctx.inside(spec["dir"], spec.value_locs["dir"], where), spec.value_locs["dir"], where
            )
        )
    if "files" in spec:
        changes.update(
            fields.files(spec["files"], spec.value_locs["files"], f"{vwhere}.files", allow_null=True)
        )
    deleted = (
        fields.sequence(spec["delete"], spec.value_locs["delete"], f"{vwhere}.delete")
        if "delete" in spec
        else LList()
    )
    for i, rel in enumerate(deleted):
        rel_where, rel_loc = f"{vwhere}.delete[{i}]", deleted.item_locs[i]
        path = fields.string(rel, rel_loc, rel_where)
        fields.checked(gitnames.path_problem(path), rel_loc, rel_where)
        changes[path] = None
    author = None
    if "author" in spec:
        who = fields.string(spec["author"], spec.value_locs["author"], f"{vwhere}.author")
        name, _, email = who.partition("<")
        if not email.endswith(">"):
            raise fields.fail(spec.value_locs["author"], f"{vwhere}.author", "expected 'Name <email>'")
        author = (name.strip(), email[:-1])
    return Commit(
        repo=fields.string(spec["repo"], spec.value_locs["repo"], f"{vwhere}.repo"),
        message=fields.text(
            spec.get("message", "Update"), fields.child_loc(spec, "message"), f"{vwhere}.message"
        ),
        branch=fields.git_ref(spec["branch"], spec.value_locs["branch"], f"{vwhere}.branch")
        if "branch" in spec
        else None,
        files=changes,
        author=author,
        tag=fields.git_ref(spec["tag"], spec.value_locs["tag"], f"{vwhere}.tag") if "tag" in spec else None,
        before_next_push=_flag(spec, "before-next-push", vwhere),
        sops=_parse_sops(spec["sops"], spec.value_locs["sops"], f"{vwhere}.sops", changes)
        if "sops" in spec
        else None,
    )


SOPS_RULES = ("encrypted-regex", "encrypted-suffix", "unencrypted-regex", "unencrypted-suffix")


def _parse_sops(value: Any, vloc: Location, vwhere: str, changes: dict[str, str | bytes | None]) -> Encrypt:
    from gitops_sim.model import age, sops

    spec = fields.mapping(
        value, vloc, vwhere, ("age", "files", *SOPS_RULES, "mac-only-encrypted"), required=("age", "files")
    )
    raw = spec["age"]
    items = list(enumerate(raw)) if isinstance(raw, list) else [(None, raw)]
    recipients = []
    for i, item in items:
        where = f"{vwhere}.age" if i is None else f"{vwhere}.age[{i}]"
        loc = spec.value_locs["age"] if i is None else raw.item_locs[i]
        text = fields.string(item, loc, where)
        try:
            recipients.append(str(age.parse_recipient(text)))
        except age.AgeError as exc:
            raise fields.fail(loc, where, f"expected an age recipient (age1…): {exc}") from exc
    if not recipients:
        raise fields.fail(spec.value_locs["age"], f"{vwhere}.age", "expected at least one age recipient")
    listed = fields.sequence(spec["files"], spec.value_locs["files"], f"{vwhere}.files")
    paths = []
    for i, item in enumerate(listed):
        where, loc = f"{vwhere}.files[{i}]", listed.item_locs[i]
        path = fields.string(item, loc, where)
        if changes.get(path) is None:
            raise fields.fail(loc, where, f"{path!r} is not a file this commit writes (in `files` or `dir`)")
        if sops.format_for_path(path) == "ini":
            raise fields.fail(loc, where, "INI files are not simulated by gitops-sim")
        paths.append(path)
    rules = {
        key: fields.string(spec[key], spec.value_locs[key], f"{vwhere}.{key}")
        for key in SOPS_RULES
        if key in spec
    }
    if len(rules) > 1:
        raise fields.fail(
            vloc, vwhere, f"at most one of {', '.join(SOPS_RULES)} (sops allows one rule a file)"
        )
    only = spec.get("mac-only-encrypted", False)
    if not isinstance(only, bool):
        raise fields.fail(
            spec.value_locs["mac-only-encrypted"], f"{vwhere}.mac-only-encrypted", "expected true or false"
        )
    return Encrypt(
        tuple(recipients),
        tuple(paths),
        sops.Rules(**{k.replace("-", "_"): v for k, v in rules.items()}, mac_only_encrypted=only),
    )


def _flag(spec: Any, key: str, vwhere: str) -> bool:
    if key not in spec:
        return False
    value = spec[key]
    if not isinstance(value, bool):
        raise fields.fail(spec.value_locs[key], f"{vwhere}.{key}", "expected true or false")
    if value and "tag" in spec:
        raise fields.fail(
            spec.value_locs[key], f"{vwhere}.{key}", "a commit made before the next push cannot be tagged"
        )
    return value


def _parse_tag(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Tag:
    spec = fields.mapping(value, vloc, vwhere, ("repo", "name", "ref", "message"), required=("repo", "name"))
    return Tag(
        repo=fields.string(spec["repo"], spec.value_locs["repo"], f"{vwhere}.repo"),
        name=fields.git_ref(spec["name"], spec.value_locs["name"], f"{vwhere}.name"),
        target=fields.git_ref(spec["ref"], spec.value_locs["ref"], f"{vwhere}.ref")
        if "ref" in spec
        else None,
        message=fields.text(spec["message"], spec.value_locs["message"], f"{vwhere}.message")
        if "message" in spec
        else None,
    )


COMMIT_SCHEMA = {
    **shapes.mapping(
        "A commit to a scenario repository. `dir`'s files replace or add to the tree at the same "
        "paths (the rest of the tree stays); `files` and `delete` apply after it.",
        {
            "repo": shapes.string("the repository (a name under `repos`)"),
            "message": shapes.text("the commit message (default: Update)"),
            "branch": shapes.git_ref("the branch to commit to (default: the repository's)"),
            "dir": shapes.path(
                "a folder beside the scenario whose files replace or add to the tree at the same paths",
                "./v2",
            ),
            "files": shapes.files("file paths to their new text; null deletes the file", allow_null=True),
            "delete": shapes.list_of("paths of files to delete", shapes.string("a file path")),
            "author": shapes.text(
                "the author, 'Name <email>' (default: gitops-sim)", pattern=r"^[^<]*<[\s\S]*>$"
            ),
            "tag": shapes.git_ref("a lightweight tag on the new commit"),
            "before-next-push": shapes.boolean(
                "the commit lands just as the next push to the repository begins (someone racing an "
                "automation's push); such a commit cannot be tagged"
            ),
            "sops": shapes.mapping(
                "Commit some of the files SOPS-encrypted, as `sops encrypt --age` writes them (format by "
                "extension: YAML, JSON, .env, else binary). The encryption draws from the run's seed: for "
                "simulations only, it protects nothing.",
                {
                    "age": shapes.any_of(
                        "the age recipients (public keys, age1…) to encrypt for",
                        shapes.string("an age recipient", pattern="^age1"),
                        shapes.list_of("age recipients", shapes.string("an age recipient", pattern="^age1")),
                        examples=["age158sck49g9emj9jf7gn5nrcv0qfnhsjzg58un3jcrsgml7kasvees6get9y"],
                    ),
                    "files": shapes.list_of(
                        "paths of files this commit writes, to encrypt", shapes.string("a file path")
                    ),
                    "encrypted-regex": shapes.string(
                        "encrypt only values under keys matching this Go regexp"
                    ),
                    "encrypted-suffix": shapes.string("encrypt only values under keys ending with this"),
                    "unencrypted-regex": shapes.string(
                        "leave values under keys matching this Go regexp in clear"
                    ),
                    "unencrypted-suffix": shapes.string(
                        "leave values under keys ending with this in clear (default: _unencrypted)"
                    ),
                    "mac-only-encrypted": shapes.boolean("the MAC covers only the encrypted values"),
                },
                required=("age", "files"),
            ),
        },
        required=("repo",),
    ),
    "not": {"required": ["tag", "before-next-push"], "properties": {"before-next-push": {"const": True}}},
}

registry.declare(
    registry.Declaration(
        "commit",
        _parse_commit,
        "commit: {repo, message, branch, files: {path: text or null}, delete: [paths], author, tag, "
        "before-next-push}",
        value_schema=COMMIT_SCHEMA,
    )
)
registry.declare(
    registry.Declaration(
        "tag",
        _parse_tag,
        "tag: {repo, name, ref, message (annotated when set)}",
        value_schema=shapes.mapping(
            "Tag a commit of a scenario repository.",
            {
                "repo": shapes.string("the repository (a name under `repos`)"),
                "name": shapes.git_ref("the tag's name"),
                "ref": shapes.git_ref("a branch or a commit to tag (default: the default branch's head)"),
                "message": shapes.text("the tag's message: the tag is annotated when it is set"),
            },
            required=("repo", "name"),
        ),
    )
)
