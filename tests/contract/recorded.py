"""Compare the emulators' answers with the real services' recorded responses in ``../shared/recorded/``.

The recordings are the project's test data, not its code: they are read in place at test time (never
copied into the repository) and the tests that use them skip when the directory is absent. Each fixture
names a request; the test makes that request to a seeded emulator and compares the two bodies by *key
paths* and JSON types, because values differ by data while the shape is the API. See the README in the
recorded directory for the fixture keys.

A key path is dotted (``tasks[].status.name``); list items are pooled under ``[]``. A Notion
``properties`` map is keyed by user-chosen property names, so its keys are replaced by the property's
type in braces (``properties.{status}.status.name``), which is how the fixtures' ``pmtui_reads`` name them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "recorded"

PLACEHOLDER = re.compile(r"\{(\w+)\}")
JSON_TYPES = {"string", "number", "boolean", "object", "array", "null"}


def fixture_paths(service: str) -> list[Path]:
    """Every recorded fixture of ``service`` (empty when the shared directory is not there)."""
    folder = RECORDED / service
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def load(path: Path) -> dict[str, Any]:
    """One fixture as a dict."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _walk(value: Any, prefix: str, out: dict[str, set[str]], *, in_properties: bool = False) -> None:
    if prefix:
        out.setdefault(prefix, set()).add(json_type(value))
    if isinstance(value, dict):
        for key, child in value.items():
            name = key
            if in_properties and isinstance(child, dict) and isinstance(child.get("type"), str):
                name = "{" + child["type"] + "}"
            _walk(child, _join(prefix, name), out, in_properties=key == "properties")
    elif isinstance(value, list):
        for item in value:
            _walk(item, prefix + "[]", out)


def key_paths(*bodies: Any) -> dict[str, set[str]]:
    """Every key path of ``bodies`` (pooled) with the JSON types seen there."""
    out: dict[str, set[str]] = {}
    for body in bodies:
        if isinstance(body, list):
            out.setdefault("[]", set())
            for item in body:
                _walk(item, "[]", out)
        else:
            _walk(body, "", out)
    out.pop("", None)
    return out


def recorded_paths(fixture: dict[str, Any]) -> dict[str, set[str]]:
    """The real key paths of a fixture: its samples pooled with its documented ``fields`` table."""
    paths = key_paths(*fixture.get("samples", []))
    for path, types in (fixture.get("fields") or {}).items():
        paths.setdefault(path, set()).update(t for t in types.split("|") if t in JSON_TYPES)
    return paths


def _ignored(path: str, ignore: Iterable[str]) -> bool:
    return any(path == i or path.startswith((i + ".", i + "[]")) for i in ignore)


def _parents(path: str) -> Iterator[str]:
    """``a.b[].c`` -> ``a.b[]``, ``a.b``, ``a``: every shorter path, longest first."""
    cut = path
    while True:
        cut = re.sub(r"(\[\]|\.[^.\[\]]+|^[^.\[\]]+)$", "", cut, count=1)
        if not cut:
            return
        yield cut


@dataclass
class Comparison:
    """The outcome of one fixture: which real paths the emulator lacks or types differently."""

    name: str
    real: dict[str, set[str]]
    emulated: dict[str, set[str]]
    ignore: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mismatched: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)
    present: int = 0

    def __post_init__(self) -> None:
        for path in sorted(self.real):
            if _ignored(path, self.ignore):
                continue
            got = self.emulated.get(path)
            if got is None:
                if self._unobservable(path):
                    self.present += 1
                else:
                    self.missing.append(path)
                continue
            self.present += 1
            want = self.real[path] - {"null"}
            have = got - {"null"}
            if want and have and not want & have:
                self.mismatched[path] = (want, have)

    def _unobservable(self, path: str) -> bool:
        """True when the emulator sends the nearest parent only as null or as an empty list.

        A real ``tasks[].project.id`` cannot appear under a ``project: null``, nor ``labels[].name`` under
        ``labels: []``; the parent's presence (checked on its own) is what the emulator can be held to.
        """
        for parent in _parents(path):
            if parent in self.emulated:
                if parent.endswith("[]"):
                    return False
                types = self.emulated[parent]
                child_of_list = path[len(parent) :].startswith("[]")
                return types == {"null"} or (
                    child_of_list and not any(p.startswith(parent + "[]") for p in self.emulated)
                )
        return False

    @property
    def total(self) -> int:
        """Real paths that count (the ignored ones excluded)."""
        return sum(1 for p in self.real if not _ignored(p, self.ignore))

    def lacks(self, paths: Iterable[str]) -> list[str]:
        """Of ``paths`` (what a client reads), those the real service sends and the emulator lacks."""
        lacking = []
        for read in paths:
            options = read.split("|")
            if any(p in self.emulated for p in options):
                continue  # code that falls back between names is served by either
            lacking += [p for p in options if p in self.real and p in self.missing]
        return lacking


def fill(value: Any, names: dict[str, str]) -> Any:
    """``value`` with ``{placeholder}`` in strings and dict keys replaced from ``names``."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: names.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {fill(k, names): fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


def unread(reads: Iterable[str], fixtures: Iterable[dict[str, Any]]) -> list[str]:
    """Of ``reads``, the ones no recording sends.

    A read written ``a|b`` is code that falls back from ``a`` to ``b`` (an older field name, say): it is
    satisfied when the service sends either.
    """
    real: set[str] = set()
    for fixture in fixtures:
        real |= set(recorded_paths(fixture))
    return [r for r in reads if not any(alt in real for alt in r.split("|"))]


def link_rels(link: str | None) -> set[str]:
    """The ``rel`` values of an RFC 8288 ``Link`` header."""
    return set(re.findall(r'rel="([^"]+)"', link or ""))


@dataclass
class Exchange:
    """The emulator's answer to one fixture's request."""

    status: int
    headers: dict[str, str]
    body: Any


def replay(
    base_url: str,
    fixture: dict[str, Any],
    names: dict[str, str],
    headers: dict[str, str],
    bad_headers: dict[str, str],
) -> Exchange:
    """Send the fixture's request to the emulator at ``base_url`` (placeholders filled from ``names``).

    ``auth: "bad"`` swaps ``headers`` for ``bad_headers``; a ``fault`` is the caller's to inject first.
    """
    import httpx

    request = fill(fixture["request"], names)
    sent = bad_headers if request.get("auth") == "bad" else headers
    with httpx.Client(base_url=base_url, headers=sent, timeout=10.0) as client:
        response = client.request(
            request["method"], request["path"], params=request.get("query"), json=request.get("json")
        )
    try:
        body = response.json() if response.content else None
    except ValueError:  # GitLab's throttle answers plain text
        body = None
    return Exchange(response.status_code, {k.lower(): v for k, v in response.headers.items()}, body)


def compare(fixture: dict[str, Any], exchange: Exchange) -> Comparison:
    """Key paths of the real samples against the emulator's body."""
    return Comparison(
        name=fixture["name"],
        real=recorded_paths(fixture),
        emulated=key_paths(exchange.body) if exchange.body is not None else {},
        ignore=list((fixture.get("ignore") or {}).keys()),
    )


def header_problems(fixture: dict[str, Any], exchange: Exchange) -> list[str]:
    """The paging/limit headers the real service sends (or omits) that the emulator does not match."""
    spec = fixture.get("headers") or {}
    problems = [f"missing header {h}" for h in spec.get("present", []) if h.lower() not in exchange.headers]
    problems += [f"unexpected header {h}" for h in spec.get("absent", []) if h.lower() in exchange.headers]
    rels = link_rels(exchange.headers.get("link"))
    problems += [f"Link lacks rel={r}" for r in spec.get("link_rels", []) if r not in rels]
    return problems
