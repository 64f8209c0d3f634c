"""`flux bootstrap github`: the repository made or found on GitHub, then bootstrap as with git.

flux2 pkg/bootstrap/bootstrap_provider.go over go-git-providers: `► connecting to github.com`;
`GET /repos/{owner}/{repo}`, and when it is not there `POST /orgs/{owner}/repos` (or, with
`--personal`, `GET /user` and `POST /user/repos`) with `private`/`visibility` from `--private`
(`✔ repository "https://github.com/<owner>/<repo>" created`). Then the steps of `bootstrap git`
(`fluxcli.bootstrap.run`) over `https://github.com/<owner>/<repo>.git`, cloned and pushed with
the token; the sync URL is `ssh://git@github.com/<owner>/<repo>` with a deploy key registered
on the repository (`flux-system-<branch>-flux-system-<path>`, read-only unless
`--read-write-key`: `✔ configured deploy key "…" for "https://github.com/<owner>/<repo>"`), or
with `--token-auth` `https://github.com/<owner>/<repo>.git` and the token in the source secret.

The token is `$GITHUB_TOKEN`, which only the CLI layer reads (the session's `env`); without it
the command fails as the real CLI does when nothing can be read from stdin. The API is the
simulation's own (`sources.forge`), reached at the session's `github_api`.

Not offered: `--team`, `--reconcile`, `--hostname` other than github.com, `--ssh-hostname`.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol, the session's git client and its
GitHub API address.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from gitops_sim.fluxcli import bootstrap as boot
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.sources import githttp

HOST = "github.com"


class _Api:
    def __init__(self, base: str, token: str) -> None:
        parts = urlsplit(base)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
        except OSError as exc:
            raise FluxError(f"failed to reach {HOST}: {exc}") from exc
        finally:
            conn.close()


def _message(answer: Any, status: int) -> str:
    text = answer.get("message", "") if isinstance(answer, dict) else ""
    return f"{status} {text}".strip()


def bootstrap(
    session: Session,
    opts: boot.Options,
    *,
    owner: str,
    repository: str,
    personal: bool,
    private: bool,
    read_write_key: bool,
) -> None:
    """`flux bootstrap github` (see the module docstring)."""
    token = session.env.get("GITHUB_TOKEN", "")
    if not token:
        raise FluxError("could not read token: could not read from stdin: EOF")
    if session.github_api is None:
        raise FluxError(f"this session has no {HOST} API")
    api = _Api(session.github_api, token)
    ref = f"https://{HOST}/{owner}/{repository}"
    log = session.log
    log.action(f"connecting to {HOST}")
    status, answer = api.call("GET", f"/repos/{owner}/{repository}")
    if status == 404:
        if personal:
            status, user = api.call("GET", "/user")
            if status != 200 or (user or {}).get("login") != owner:
                raise FluxError(
                    f"failed to create new Git repository \"{ref}\": the specified owner '{owner}' "
                    "doesn't match the identity associated with the given token"
                )
        body = (
            {"name": repository, "private": True, "visibility": "private"}
            if private
            else {
                "name": repository,
                "visibility": "public",
            }
        )
        status, answer = api.call("POST", "/user/repos" if personal else f"/orgs/{owner}/repos", body)
        if status != 201:
            raise FluxError(f'failed to create new Git repository "{ref}": {_message(answer, status)}')
        log.success(f'repository "{ref}" created')
    elif status != 200:
        raise FluxError(f'failed to get Git repository "{ref}": provider error: {_message(answer, status)}')
    target = boot.safe_relative_path(opts.path) if opts.path else ""
    key_name = "-".join(p for p in (session.namespace, opts.branch, opts.secret_name, target) if p)

    def deploy_key(public: str) -> None:
        status, keys = api.call("GET", f"/repos/{owner}/{repository}/keys")
        if status != 200:
            raise FluxError(f"failed to list deploy keys: {_message(keys, status)}")
        for key in keys or []:
            if key.get("title") == key_name:
                if key.get("key") == public and key.get("read_only") == (not read_write_key):
                    return
                api.call("DELETE", f"/repos/{owner}/{repository}/keys/{key['id']}")
        body = {"key": public, "title": key_name, "read_only": not read_write_key}
        status, answer = api.call("POST", f"/repos/{owner}/{repository}/keys", body)
        if status != 201:
            raise FluxError(f"failed to configure deploy key: {_message(answer, status)}")
        log.success(f'configured deploy key "{key_name}" for "{ref}"')

    clone = f"{ref}.git"
    token_auth = opts.token_auth
    boot.run(
        session,
        replace(
            opts,
            url=clone,
            sync=clone if token_auth else f"ssh://git@{HOST}/{owner}/{repository}",
            clone_credentials=githttp.Credentials(username=owner, password=token),
            username="git",
            password=token if token_auth else "",
            on_public_key=None if token_auth else deploy_key,
        ),
    )
