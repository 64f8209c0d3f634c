"""API errors shaped like the kube-apiserver's `Status` objects (apimachinery `api/errors`).

Every failure a backend reports is an `ApiError` carrying the HTTP code, the Status reason and the
message the real server would send, so that controllers can put the same text into conditions as
Flux does (``GitRepository.source.toolkit.fluxcd.io "fleet" not found``) and the HTTP front can
return it unchanged. Callers: every backend, the apply layer and controllers.
"""

from __future__ import annotations

from typing import Any

from gitops_sim.model import refs


class ApiError(Exception):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            out["details"] = self.details
        return out


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"


class Conflict(ApiError):
    code = 409
    reason = "Conflict"


class Gone(ApiError):
    """410: a resourceVersion or continue token older than what the server still remembers."""

    code = 410
    reason = "Expired"


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class RequestEntityTooLarge(ApiError):
    code = 413
    reason = "RequestEntityTooLarge"


class Invalid(ApiError):
    code = 422
    reason = "Invalid"


class NoKindMatch(ApiError):
    """The RESTMapper error for a kind the server does not serve (no CRD installed)."""

    code = 404
    reason = "NotFound"


def qualified_resource(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(ref: refs.ObjectRef, plural: str) -> NotFound:
    """`<plural>.<group> "<name>" not found`, the server's own wording.

    Note: client-go formats this with the resource's plural (`gitrepositories.source...`), while
    Flux shows `GitRepository.source.toolkit.fluxcd.io "x" not found` for sources it reads through
    the controller-runtime client, which names the kind; callers that need Flux's wording use
    `kind_not_found`.
    """
    return NotFound(
        f'{qualified_resource(plural, ref.group)} "{ref.name}" not found',
        details={"name": ref.name, "group": ref.group, "kind": plural},
    )


def kind_not_found(ref: refs.ObjectRef) -> NotFound:
    """The controller-runtime client's NotFound text: `<Kind>.<group> "<name>" not found`."""
    return NotFound(
        f'{qualified_resource(ref.kind, ref.group)} "{ref.name}" not found',
        details={"name": ref.name, "group": ref.group, "kind": ref.kind},
    )


def no_kind_match(gvk: refs.GVK) -> NoKindMatch:
    return NoKindMatch(f'no matches for kind "{gvk.kind}" in version "{gvk.api_version}"')


def conflict_modified(plural: str, group: str, name: str) -> Conflict:
    return Conflict(
        f'Operation cannot be fulfilled on {qualified_resource(plural, group)} "{name}": '
        "the object has been modified; please apply your changes to the latest version and try again",
        details={"name": name, "group": group, "kind": plural},
    )
