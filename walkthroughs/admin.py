"""What a walkthrough does to the sandbox from outside the app: faults and other people's edits.

Both the recorder (against the emulators of a running ``pmtui demo``) and the replay test (against
emulators it started) go through the emulators' HTTP admin surface, ``/_sandbox/*``, so a story does the
same thing in both.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from pmtui.sandbox.server import parse_fault_spec
from walkthroughs.steps import ClearFaults, Fault, RemoteEdit

_LINEAR_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9]*-\d+$")


class SandboxAdmin:
    """The admin endpoints of the four emulators, by service name."""

    def __init__(self, urls: Mapping[str, str], *, timeout: float = 10.0) -> None:
        self.urls = dict(urls)
        self.timeout = timeout

    @classmethod
    def from_config(cls, path: Path) -> SandboxAdmin:
        """Read the emulators' URLs from the config.toml that ``pmtui demo`` writes into its home."""
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        urls = {
            name: str(section["base_url"])
            for name, section in data.items()
            if isinstance(section, dict) and "base_url" in section
        }
        return cls(urls)

    def apply(self, step: Fault | ClearFaults | RemoteEdit) -> None:
        """Carry out one sandbox step."""
        if isinstance(step, Fault):
            self.add_faults(step.spec)
        elif isinstance(step, ClearFaults):
            self._call("DELETE", step.service, "faults")
        else:
            self.edit(step)

    def add_faults(self, spec: str) -> None:
        for service, faults in parse_fault_spec(spec).items():
            self._call("POST", service, "faults", {"faults": [f.to_dict() for f in faults]})

    def edit(self, step: RemoteEdit) -> None:
        if step.service == "linear":
            kind = "issue"
            ident = step.item if _LINEAR_IDENTIFIER.match(step.item) else self._find(step, "issues", "title")
        elif step.service == "motion":
            kind = "task"
            ident = self._find(step, "tasks", "name")
        else:
            raise ValueError(f"RemoteEdit supports linear and motion, not {step.service!r}")
        self._call(
            "POST", step.service, "mutate", {"op": "update", "kind": kind, "id": ident, "fields": step.fields}
        )

    def _find(self, step: RemoteEdit, collection: str, title_field: str) -> str:
        state = self._call("GET", step.service, "state")
        found = [key for key, item in state[collection].items() if item.get(title_field) == step.item]
        if len(found) != 1:
            raise LookupError(f"{step.service} has {len(found)} items titled {step.item!r}, expected one")
        return str(found[0])

    def _call(self, method: str, service: str, action: str, body: Any = None) -> Any:
        if service not in self.urls:
            raise LookupError(f"no {service} emulator is known (have: {', '.join(sorted(self.urls))})")
        response = httpx.request(
            method, f"{self.urls[service]}/_sandbox/{action}", json=body, timeout=self.timeout
        )
        response.raise_for_status()
        return response.json()
