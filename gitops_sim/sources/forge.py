"""A simulated GitHub: the parts of its REST API `flux bootstrap github` uses, over real HTTP on
127.0.0.1, creating repositories in the simulation's git server.

Endpoints (as go-git-providers calls them; JSON in and out, `Authorization: Bearer <token>`):
- `GET /user`: the token's user;
- `GET /repos/{owner}/{repo}`: the repository, or 404 `{"message": "Not Found"}`;
- `POST /user/repos` and `POST /orgs/{org}/repos` (`name`, `private`, `visibility`): an empty
  repository, hosted at `https://github.com/{owner}/{repo}` (201);
- `GET /repos/{owner}/{repo}/keys`, `POST …/keys` (`title`, `key`, `read_only`) and
  `DELETE …/keys/{id}`: deploy keys.

A request without a bearer token is 401 `Bad credentials`. The simulation has one user: every
token belongs to it, and it is named after the owner the first repository request asks about
(so `--personal --owner <you>` always matches; the real GitHub would name the token's own
user). Repositories a scenario declares under `https://github.com/…` exist here too.

Callers: the engine (one per simulation, started when first asked for its address), `serve`
(its address goes into the kubeconfig), and the flux CLI (`fluxcli.github`) as a client.
Never reads the clock; never reaches beyond this machine.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from gitops_sim.sources import git, loopback

HOST = "github.com"
_REPO = re.compile(r"^/repos/([^/]+)/([^/]+)(/keys(?:/(\d+))?)?$")


@dataclass(slots=True)
class _Key:
    id: int
    title: str
    key: str
    read_only: bool


@dataclass(slots=True)
class _Meta:
    private: bool = True
    keys: list[_Key] = field(default_factory=list)


class Forge(loopback.Hosting):
    def __init__(self, server: git.GitServer) -> None:
        super().__init__()
        self._git = server
        self._meta: dict[tuple[str, str], _Meta] = {}
        self._lock = threading.Lock()
        self._next_key = 1
        self.user: str | None = None
        """The login of the simulation's one GitHub user (set by the first request that names
        an owner, unless set before)."""

    def _start(self) -> loopback.Server:
        return loopback.Server(_ForgeHandler, "gitops-sim-github", forge=self)

    def handle(self, method: str, path: str, token: str | None, body: bytes) -> tuple[int, Any]:
        """One API request: (status, JSON body)."""
        if not token:
            return 401, {"message": "Bad credentials"}
        path = path.split("?", 1)[0].rstrip("/")
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return 400, {"message": "Problems parsing JSON"}
        with self._lock:
            if path == "/user" and method == "GET":
                return 200, {"login": self.user or "gitops-sim", "type": "User"}
            if method == "POST" and (path == "/user/repos" or re.fullmatch(r"/orgs/[^/]+/repos", path)):
                owner = (self.user or "gitops-sim") if path == "/user/repos" else path.split("/")[2]
                return self._create(owner, payload)
            match = _REPO.match(path)
            if match is None:
                return 404, {"message": "Not Found"}
            owner, name, keys, key_id = match.groups()
            if self.user is None:
                self.user = owner
            repo = self._git.get(f"https://{HOST}/{owner}/{name}")
            if repo is None:
                return 404, {"message": "Not Found"}
            meta = self._meta.setdefault((owner, name), _Meta())
            if not keys:
                return (
                    (200, self._repo_json(owner, name, meta, repo.default_branch))
                    if method == "GET"
                    else (
                        405,
                        {"message": "Method Not Allowed"},
                    )
                )
            if method == "GET" and key_id is None:
                return 200, [self._key_json(k) for k in meta.keys]
            if method == "POST" and key_id is None:
                key = _Key(
                    self._next_key,
                    str(payload.get("title", "")),
                    str(payload.get("key", "")),
                    bool(payload.get("read_only", True)),
                )
                self._next_key += 1
                meta.keys.append(key)
                return 201, self._key_json(key)
            if method == "DELETE" and key_id is not None:
                meta.keys = [k for k in meta.keys if k.id != int(key_id)]
                return 204, None
            return 404, {"message": "Not Found"}

    def _create(self, owner: str, payload: dict[str, Any]) -> tuple[int, Any]:
        name = str(payload.get("name", ""))
        if not name or "/" in name:
            return 422, {
                "message": "Repository creation failed.",
                "errors": [{"field": "name", "code": "invalid"}],
            }
        url = f"https://{HOST}/{owner}/{name}"
        if self._git.get(url) is not None:
            return 422, {
                "message": "Repository creation failed.",
                "errors": [{"message": "name already exists on this account"}],
            }
        repo = self._git.create(f"github-{owner}-{name}", url)
        private = (
            payload.get("visibility", "private" if payload.get("private", True) else "public") != "public"
        )
        meta = self._meta[(owner, name)] = _Meta(private=private)
        return 201, self._repo_json(owner, name, meta, repo.default_branch)

    @staticmethod
    def _repo_json(owner: str, name: str, meta: _Meta, branch: str) -> dict[str, Any]:
        return {
            "name": name,
            "full_name": f"{owner}/{name}",
            "owner": {"login": owner},
            "private": meta.private,
            "visibility": "private" if meta.private else "public",
            "default_branch": branch,
            "html_url": f"https://{HOST}/{owner}/{name}",
            "clone_url": f"https://{HOST}/{owner}/{name}.git",
            "ssh_url": f"git@{HOST}:{owner}/{name}.git",
        }

    @staticmethod
    def _key_json(key: _Key) -> dict[str, Any]:
        return {"id": key.id, "title": key.title, "key": key.key, "read_only": key.read_only}

    def keys(self, owner: str, name: str) -> list[tuple[str, bool]]:
        """The deploy keys of a repository: (title, read_only) each (for tests and reports)."""
        with self._lock:
            return [(k.title, k.read_only) for k in self._meta.get((owner, name), _Meta()).keys]


class _ForgeHandler(loopback.Handler):
    forge: Forge

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20))
        auth = self.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").removeprefix("token ").strip() or None
        status, answer = self.forge.handle(self.command, self.path, token, body)
        data = b"" if answer is None else json.dumps(answer).encode()
        self.send(status, data, "application/json; charset=utf-8")

    do_GET = do_POST = do_PATCH = do_DELETE = _serve
