"""Every error message a user can see is explained in docs/troubleshooting.md.

The collector walks the source of ``pmtui/`` with :mod:`ast` (nothing is imported or run) and gathers:

- every construction of a pmtui error class (``PmtuiError`` and its subclasses, wherever they are
  defined), raised or returned: ``raise NotFoundError(f"{action}: {text}", ...)``;
- every ``typer.BadParameter(...)`` and every ``_err(...)`` line the CLI prints before exiting;
- the ``ValueError`` messages of the settings' validators (they reach the user as config errors);
- the detail of every failing, warning or off ``pmtui doctor`` check (``Check(..., "fail", ...)``)
  and of every unhealthy ``Health(ok=False, detail=...)`` an integration reports to it.

A message's stable part is its longest literal piece (an f-string's text between placeholders, trimmed
of punctuation), e.g. ``"GitLab did not answer in time"`` from ``f"{action}: GitLab did not answer in
time"``. That piece must appear in the guide. A message with no literal piece of at least
``MIN_LITERAL`` characters is the service's or a library's own words passed through
(``ValidationError(text, ...)``); then the guide must name its error class instead.

Run ``python tests/test_troubleshooting.py`` to list what the guide is missing.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pmtui"
GUIDE = ROOT / "docs" / "troubleshooting.md"

MIN_LITERAL = 8
"""Shorter literal pieces ("error: ", " (got ") say nothing on their own: the class must be documented."""

BASE_ERROR = "PmtuiError"
CLI_ERROR_PRINTERS = {"_err"}
"""Functions in pmtui/cli.py that print an error line on stderr."""

EXTRA_MESSAGES = {
    # Built from variables in config._config_error, so no call site carries them as literals.
    "unknown key": "pmtui/config.py (_config_error)",
    "expected one of": "pmtui/config.py (_config_error)",
}

NOT_ERRORS = {
    # `_err` lines that report progress rather than a failure; they need no troubleshooting entry.
    "pmtui/cli.py": {"webhooks: ", "  hint: ", "saved: ", "[ok  ] mirror"},
}


@dataclass(frozen=True)
class Message:
    """One user-visible message: where it is built, its class (or printer) and its stable text."""

    where: str
    kind: str
    literal: str | None

    def __str__(self) -> str:
        shown = repr(self.literal) if self.literal else f"(passed-through text; document `{self.kind}`)"
        return f"{self.where}: {self.kind}: {shown}"


def _pieces(node: ast.expr) -> list[str] | None:
    """The literal pieces of a string expression, or None if it is not built from literals at all."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        ]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pieces(node.left), _pieces(node.right)
        if left is None and right is None:
            return None
        return [*(left or []), *(right or [])]
    if isinstance(node, ast.IfExp):
        return _pieces(node.body) or _pieces(node.orelse)
    return None


def stable_part(node: ast.expr | None) -> str | None:
    """The longest literal piece of a message expression, trimmed; None when shorter than MIN_LITERAL."""
    if node is None:
        return None
    pieces = _pieces(node) or []
    best = max((p.strip(" :;,.()\n") for p in pieces), key=len, default="")
    best = re.sub(r"\s+", " ", best)
    return best if len(best) >= MIN_LITERAL else None


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _message_arg(call: ast.Call, position: int = 0, keyword: str = "message") -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _trees() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def error_classes(trees: dict[str, ast.Module]) -> set[str]:
    """PmtuiError and every class that derives from it, in any module of the package."""
    known = {BASE_ERROR}
    classes = [node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for cls in classes:
            if cls.name not in known and any(_name(base) in known for base in cls.bases):
                known.add(cls.name)
                grew = True
    return known


def _is_validator(func: ast.FunctionDef) -> bool:
    return any(
        _name(dec.func if isinstance(dec, ast.Call) else dec) in ("field_validator", "model_validator")
        for dec in func.decorator_list
    )


def collect_messages() -> list[Message]:
    """Every user-visible message in pmtui/, with its stable literal part (see the module docstring)."""
    trees = _trees()
    errors = error_classes(trees)
    found: list[Message] = []
    for where, tree in trees.items():
        skip = NOT_ERRORS.get(where, set())
        validators = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and where == "pmtui/config.py" and _is_validator(node)
        ]
        for func in validators:
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Raise)
                    and isinstance(node.exc, ast.Call)
                    and _name(node.exc.func) == "ValueError"
                ):
                    found.append(
                        Message(
                            f"{where}:{node.lineno}", "config validation", stable_part(_message_arg(node.exc))
                        )
                    )
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            loc = f"{where}:{node.lineno}"
            if name in errors:
                found.append(Message(loc, name, stable_part(_message_arg(node))))
            elif name == "BadParameter":
                found.append(Message(loc, "typer.BadParameter", stable_part(_message_arg(node))))
            elif name in CLI_ERROR_PRINTERS and where == "pmtui/cli.py":
                arg = _message_arg(node)
                pieces = _pieces(arg) if arg is not None else None
                if pieces and any(p.startswith(tuple(skip)) for p in pieces[:1]):
                    continue
                text = stable_part(arg)
                text = text.removeprefix("error: ") if text is not None else None
                if text:
                    found.append(Message(loc, "CLI", text))
            elif name == "Check" and len(node.args) >= 3:
                status = node.args[1]
                if isinstance(status, ast.Constant) and status.value in ("fail", "warn", "off"):
                    text = stable_part(node.args[2])
                    if text is not None:
                        found.append(Message(loc, "pmtui doctor", text))
            elif name == "Health":
                ok = next((kw.value for kw in node.keywords if kw.arg == "ok"), None)
                if isinstance(ok, ast.Constant) and ok.value is False:
                    text = stable_part(_message_arg(node, 99, "detail"))
                    if text is not None:
                        found.append(Message(loc, "pmtui doctor", text))
    found += [Message(where, "config validation", text) for text, where in EXTRA_MESSAGES.items()]
    return found


def _normalised(text: str) -> str:
    """Case, runs of whitespace and backticks (code spans in the guide) do not count."""
    return re.sub(r"\s+", " ", text.replace("`", "")).casefold()


def missing_from_guide() -> list[Message]:
    guide = _normalised(GUIDE.read_text(encoding="utf-8"))
    missing = []
    for message in collect_messages():
        wanted = message.literal if message.literal is not None else f"`{message.kind}`"
        if _normalised(wanted) not in guide:
            missing.append(message)
    return missing


def test_the_collector_finds_the_known_kinds_of_message() -> None:
    """Guard the collector itself: it must see messages of every kind it is meant to collect."""
    messages = collect_messages()
    kinds = {m.kind for m in messages}
    wanted = {"ConfigError", "StoreLockedError", "AuthError", "NotConfiguredError", "CLI", "pmtui doctor"}
    assert wanted <= kinds
    literals = {m.literal for m in messages}
    assert "GitLab did not answer in time" in literals  # from f"{action}: GitLab did not answer in time"
    assert "must be an http(s) URL such as https://api.example.com" in literals  # a settings validator
    assert any(m.kind == "ValidationError" and m.literal is None for m in messages)  # the service's words
    assert len(messages) > 60


def test_every_error_message_is_in_the_troubleshooting_guide() -> None:
    missing = missing_from_guide()
    assert not missing, (
        "docs/troubleshooting.md lacks these messages (add an entry with what it means and the fix; "
        "`python tests/test_troubleshooting.py` lists them):\n" + "\n".join(map(str, missing))
    )


def test_every_entry_says_what_it_means_and_the_fix() -> None:
    """Each entry (a `###` heading) has a meaning and a fix, so an entry is never just the message."""
    text = GUIDE.read_text(encoding="utf-8")
    entries = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    assert len(entries) > 20
    for entry in entries:
        heading = entry.splitlines()[0]
        assert "**Fix:**" in entry, f"troubleshooting entry without a fix: {heading}"


if __name__ == "__main__":
    for message in missing_from_guide():
        print(message)
