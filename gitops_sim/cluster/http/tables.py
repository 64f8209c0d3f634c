"""`kubectl get` tables: the server-side printing of the Table API (meta.k8s.io/v1 Table).

Custom resources print `Name` then their CRD's additionalPrinterColumns (an implicit `Age` when
there are none); a few built-ins print the columns kubectl users know (ConfigMap DATA, Namespace
STATUS, Secret TYPE and DATA, Deployment READY, UP-TO-DATE, AVAILABLE); other built-ins print
`Name` and `Age`. Dates become human durations as the apiserver renders them. JSONPath in printer
columns supports the forms CRDs use: `.a.b`, `.a[0].b` and `.a[?(@.k=="v")].b`.

Callers: `cluster.http.server`. Pure functions; `now_ms` comes from the server's clock.
"""

from __future__ import annotations

import re
from typing import Any

from gitops_sim.cluster import kinds
from gitops_sim.model import duration, objects

Column = tuple[str, str, str, int]  # name, type, jsonPath, priority

_BUILTIN: dict[str, list[Column]] = {
    "ConfigMap": [("Data", "integer", "", 0)],
    "Secret": [("Type", "string", ".type", 0), ("Data", "integer", "", 0)],
    "Namespace": [("Status", "string", ".status.phase", 0)],
    "Deployment": [
        ("Ready", "string", "", 0),
        ("Up-to-date", "integer", ".status.updatedReplicas", 0),
        ("Available", "integer", ".status.availableReplicas", 0),
    ],
}
_NAME: Column = ("Name", "name", ".metadata.name", 0)
_AGE: Column = ("Age", "date", ".metadata.creationTimestamp", 0)
_EVENT: list[Column] = [
    ("Last Seen", "date", ".lastTimestamp", 0),
    ("Type", "string", ".type", 0),
    ("Reason", "string", ".reason", 0),
    ("Object", "string", "", 0),
    ("Message", "string", ".message", 0),
]
# Kinds printed by the apiserver's default table convertor: Name and an absolute creation time.
_CREATED_AT: Column = ("Created At", "created", ".metadata.creationTimestamp", 0)


def columns(info: kinds.KindInfo) -> list[Column]:
    """Every column of the kind's table, Name first (Events have none: they print LAST SEEN first)."""
    if info.gvk.kind == "Event" and not info.gvk.group:
        return _EVENT
    if info.custom:
        return [_NAME, *(info.printer_columns or [_AGE])]
    if info.gvk.kind == "CustomResourceDefinition":
        return [_NAME, _CREATED_AT]
    return [_NAME, *_BUILTIN.get(info.gvk.kind, []), _AGE]


def table(
    info: kinds.KindInfo,
    items: list[objects.RawObject],
    resource_version: str,
    now_ms: int,
    *,
    include_columns: bool = True,
) -> dict[str, Any]:
    cols = columns(info)
    out: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
    }
    if include_columns:
        out["columnDefinitions"] = [
            {
                "name": name,
                "type": kind if kind in ("integer", "number", "boolean") else "string",
                "format": "name" if kind == "name" else "",
                "description": name,
                "priority": priority,
            }
            for name, kind, _, priority in cols
        ]
    out["rows"] = [
        {
            "cells": [_cell(info, obj, c, now_ms) for c in cols],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"},
            },
        }
        for obj in items
    ]
    return out


def _cell(info: kinds.KindInfo, obj: objects.RawObject, column: Column, now_ms: int) -> Any:
    name, kind, path, _ = column
    if not info.custom and info.gvk.kind in ("ConfigMap", "Secret") and name == "Data":
        return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    if not info.custom and info.gvk.kind == "Event" and name == "Object":
        involved = obj.get("involvedObject") or {}
        return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"
    if not info.custom and info.gvk.kind == "Deployment" and name == "Ready":
        status = obj.get("status") or {}
        return f"{status.get('readyReplicas', 0)}/{(obj.get('spec') or {}).get('replicas', 1)}"
    value = jsonpath(obj, path)
    if kind == "created":
        return value if isinstance(value, str) else "<unknown>"
    if kind == "date":
        if not isinstance(value, str):
            return "<unknown>"
        return human_duration(now_ms - duration.parse_rfc3339(value))
    if value is None:
        return "" if kind == "string" else None
    return value


_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_-]+)==[\"']([^\"']*)[\"']\)\]")


def jsonpath(obj: Any, path: str) -> Any:
    """The value at a printer-column JSONPath, or None."""
    cur = obj
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None:
            return None
        field, index, key, want = match.groups()
        if field is not None:
            cur = cur.get(field) if isinstance(cur, dict) else None
        elif index is not None:
            cur = cur[int(index)] if isinstance(cur, list) and int(index) < len(cur) else None
        else:
            cur = (
                next((i for i in cur if isinstance(i, dict) and str(i.get(key)) == want), None)
                if isinstance(cur, list)
                else None
            )
        if cur is None:
            return None
        pos = match.end()
    return cur


def human_duration(ms: int) -> str:
    """apimachinery `duration.HumanDuration`: 5s, 3m2s, 10m, 2h30m, 5h, 3d4h, 40d, 2y."""
    seconds = max(ms, 0) // 1000
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"
