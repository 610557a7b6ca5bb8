"""The configuration reference, generated from the Settings model's fields and attribute docstrings.

``docs/configuration.md`` is this module's output (`pmtui config reference > docs/configuration.md`);
a test fails when the file is stale, so the docs cannot drift from the code.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from pmtui.config import ENV_PREFIX, SECRET_ENV, RoutingSettings, Settings
from pmtui.docstrings import field_docstrings

HEADER = """\
# Configuration reference

Generated from `pmtui/config.py` by `pmtui config reference`; do not edit by hand.

Settings are read in layers: defaults < `config.toml` (see `pmtui config path`) < `PMTUI_*`
environment variables < command-line flags. Every key can be set in the environment as
`PMTUI_<SECTION>__<KEY>` (two underscores between levels), e.g. `PMTUI_SYNC__INTERVAL_SECONDS=120`.
A key the model does not know, or a value of the wrong type, stops pmtui with the file, line and key
(exit code 2).

## Secrets

Keys never belong in this file's tables. pmtui looks for each service's key in the environment
variable first, then in the OS keyring (service `pmtui`, user = the service name), and only then in
the `api_key` key of the service's section, which it reads only if the config file is private
(`chmod 600`).

| service | environment variable |
|---|---|
"""


NO_KEYRING = """
A process that looks for a key the environment does not hold imports keyring and searches for a
backend, which costs about a quarter of a second of CPU even where none exists (measured on a 2-core
Linux VM; part of it is the `ldconfig`, `gcc` and `ld` runs of keyring's macOS module looking for its
libraries). On a machine with no OS keyring and no desktop session (a server that runs `pmtui sync`
from cron, a container), pmtui remembers that the search found nothing and skips it until something it
depends on changes (an installed package, keyring's config file, `PYTHON_KEYRING_BACKEND`, a D-Bus
session); `pmtui doctor` always searches afresh. `PMTUI_NO_KEYRING=1` skips the keyring altogether."""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in typing.get_args(annotation)]
        return " or ".join(p for p in parts if p != "None") + (" (optional)" if "None" in parts else "")
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(a) for a in typing.get_args(annotation))
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"table of {_type_name(key)} -> {_type_name(value)}"
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and issubclass(annotation, SecretStr):
        return "secret string"
    if isinstance(annotation, type) and hasattr(annotation, "__members__"):
        return "one of " + ", ".join(json.dumps(m.value) for m in annotation.__members__.values())
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(see below)"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return "(see below)"
    if hasattr(value, "value"):
        value = value.value
    return f"`{json.dumps(value, default=str)}`"


def _section(model: type[BaseModel], path: tuple[str, ...], out: list[str]) -> None:
    nested: list[tuple[str, type[BaseModel]]] = []
    rows: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((name, annotation))
            continue
        env = ENV_PREFIX + "__".join(part.upper() for part in (*path, name))
        if name == "api_key" and path:
            env = f"{ENV_PREFIX}{path[0].upper()}_API_KEY"
        doc = field.description or field_docstrings(model).get(name, "")
        doc = doc.replace("\n", " ").replace("|", "\\|")
        rows.append(f"| `{name}` | {_type_name(annotation)} | {_default(field)} | `{env}` | {doc} |")
    if rows:
        title = f"[{'.'.join(path)}]" if path else "top level"
        out.append(f"\n## {title}\n")
        if model.__doc__ and path:
            out.append(model.__doc__.strip().splitlines()[0] + "\n")
        out.append("| key | type | default | environment | meaning |")
        out.append("|---|---|---|---|---|")
        out.extend(rows)
    for name, sub in nested:
        _section(sub, (*path, name), out)


def render() -> str:
    """The whole reference as Markdown."""
    out = [HEADER.rstrip("\n")]
    out.extend(f"| {service.value} | `{env}` |" for service, env in SECRET_ENV.items())
    out.append(NO_KEYRING)
    _section(Settings, (), out)
    out.append("\n## Routing rules\n")
    out.append(
        "`[[routing.rules]]` entries are tried in order; every condition a rule sets must hold. "
        "The default rules are:\n"
    )
    out.append("```toml")
    for rule in RoutingSettings().rules:
        data = {
            k: (v.value if hasattr(v, "value") else v) for k, v in rule.model_dump().items() if v is not None
        }
        out.append("[[routing.rules]]")
        out.extend(f"{key} = {json.dumps(value)}" for key, value in data.items())
        out.append("")
    out.append("```")
    out.append(
        "\n`pmtui do --to SERVICE --save-rule` puts a rule first in this list in your `config.toml`. "
        "The file "
        "is edited in place with its comments and layout kept; the result is validated like a start-up "
        "read before anything is written, then replaces the file atomically (private to you, mode 600). "
        "A save that would leave an invalid file is refused with the file, line and key, and the file is "
        "left exactly as it was."
    )
    out.append(
        "\n`pmtui briefing` remembers that a settings file and environment were valid in "
        "`settings-stamp.json` in the cache folder (a digest, the time zone and the configured services' "
        "names; never a secret), so it can skip the settings model on the next run. Any change to the "
        "file, to a `PMTUI_*` variable or to pmtui validates everything again; the stamp is safe to delete."
    )
    out.append(
        "\n`pmtui briefing` and `pmtui conflicts` also keep their last answer in the cache folder, so a run "
        "with nothing changed needs neither DuckDB nor Rich: `briefing-answer.json` (the briefing's data, "
        "and its printed text for each of the last six terminals you ran it on, recorded with the width "
        "and colours Rich chose there) and `conflicts-answer.json` (the open conflicts as printed). They "
        "hold what the commands print and never a secret, are private to you (mode 600), and are used "
        "only while they match the cache exactly (see [Performance: the answer cache]"
        "(performance.md#the-answer-cache)); anything else, including a damaged file, is ignored and "
        "computed again. Both are safe to delete."
    )
    out.append(
        "\n`pmtui sync`, the app, and `pmtui briefing` and `pmtui conflicts` when they read the cache rather "
        "than their filed answer keep the code Python compiles for the classes their libraries make as they "
        "load (dataclass methods, namedtuples, type annotations written as text) in "
        "`generated-code-<command>-….marshal` in the cache folder, named for your Python's version: 0.1-1.3 "
        "MB each, private to you (mode 600), and rewritten only when a run compiled something new (after "
        "an upgrade, say). A quiet `pmtui sync` takes about a tenth less CPU with it (see [Performance: "
        "generated code, compiled once]"
        "(performance.md#generated-code-compiled-once)). A file that is damaged, owned by another user or "
        "writable by others is ignored, and one that cannot be written is skipped: either way the run only "
        "compiles as it would without it. `PMTUI_NO_CODE_CACHE=1` turns it off; the files are safe to "
        "delete."
    )
    return "\n".join(out).rstrip() + "\n"
