"""The git steps: `commit` to a scenario repository, and `tag` a commit.

    commit: {repo, message, branch, dir: folder, files: {path: text or null to delete}, delete: [paths],
             author, tag, before-next-push: true}
        `dir`: a folder beside the scenario whose files replace or add to the tree at the same
        paths (the rest of the tree stays); `files` and `delete` apply after it.
        `before-next-push`: the commit lands just as the next push to the repository begins
        (someone racing an automation's push).
    tag: {repo, name, ref (a branch or a commit), message (annotated when set)}

Declares the steps (schema side); `steps.actions.git` runs them. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import LList, Location
from gitops_sim.scenario.steps import fields, registry, shapes
from gitops_sim.sources import git


@dataclass(frozen=True, slots=True)
class Commit(registry.Action):
    repo: str
    message: str
    branch: str | None
    files: dict[str, str | bytes | None]
    author: tuple[str, str] | None
    tag: str | None = None  # tag the new commit (lightweight)
    before_next_push: bool = False  # made as the next push to the repository begins


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
        ("repo", "message", "branch", "dir", "files", "delete", "author", "tag", "before-next-push"),
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
        fields.checked(git.path_problem(path), rel_loc, rel_where)
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
