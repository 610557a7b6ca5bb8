"""Safe display text: strip terminal control and escape sequences from strings that came from a service.

A task title is written by whoever can edit the task on Motion, Linear, Notion or GitLab. Printed raw,
``\\x1b]52;c;...\\x07`` writes the user's clipboard, ``\\x1b[2J`` clears the screen, ``\\x1b]0;...\\x07``
renames the window, a carriage return overwrites the line before it and a right-to-left override makes
``txt.exe`` read as ``exe.txt``. Every front end (the app, ``pmtui briefing``, ``do``, ``conflicts``,
``doctor``) passes service strings through :func:`clean_line` or :func:`clean_block` right before
display; the cache keeps the data exactly as the service sent it.

This module is on every fast path: it imports only ``re``.
"""

from __future__ import annotations

import re

MAX_LINE = 500
"""Characters of one single-line value shown at most (a 10 kB title is cut, with an ellipsis)."""

_ESCAPE_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?                 # CSI ... final byte
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])                           # OSC, DCS, SOS, PM, APC ...
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?                             # ... up to BEL or ST
    | \x1b[\x20-\x2f]*[\x30-\x7e]?                                      # any other ESC sequence
    """,
    re.VERBOSE,
)
"""ECMA-48 sequences, 7-bit and 8-bit; an unterminated one is removed up to the end of the string."""

_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Embeddings, overrides and isolates: they reorder what follows (the "Trojan Source" trick)."""
_INVISIBLE = "\u200b\u200c\u200e\u200f\u061c\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
"""Zero-width characters and direction marks: they make two titles that look alike differ."""
_ZWJ = "\u200d"

_C0_EXCEPT_NEWLINE_TAB = "".join(chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
_C1 = "".join(chr(c) for c in range(0x80, 0xA0))

_BLOCK_DROP = re.compile(f"[{re.escape(_C0_EXCEPT_NEWLINE_TAB + _C1 + _BIDI_CONTROLS)}]")
_LINE_DROP = re.compile(f"[{re.escape(_C0_EXCEPT_NEWLINE_TAB + _C1 + _BIDI_CONTROLS + _INVISIBLE)}]")
_LINE_BREAKS = re.compile(r"[\r\n\t\u2028\u2029\x85]+")


def _is_pictographic(char: str) -> bool:
    """Emoji and the joiners' partners, so a ZWJ sequence (a family, a profession) stays one glyph."""
    code = ord(char)
    return code >= 0x1F000 or 0x2600 <= code <= 0x27BF or code in (0xFE0F, 0x2640, 0x2642, 0x2695)


def _drop_stray_joiners(text: str) -> str:
    """Remove each zero-width joiner except those between two emoji."""
    if _ZWJ not in text:
        return text
    kept = []
    for n, char in enumerate(text):
        if char == _ZWJ and not (
            0 < n < len(text) - 1 and _is_pictographic(text[n - 1]) and _is_pictographic(text[n + 1])
        ):
            continue
        kept.append(char)
    return "".join(kept)


def clean_line(value: object, *, limit: int | None = MAX_LINE) -> str:
    """One line of safe text: no escape sequence, control, bidi override or invisible character.

    Line breaks and tabs become one space (a title with CR/LF cannot fake a second line of output); other
    spaces are kept as they are (table cells are padded with them). The result is cut to ``limit``
    characters with an ellipsis; None becomes the empty string.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and (limit is None or len(text) <= limit) and _ZWJ not in text:
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _LINE_BREAKS.sub(" ", text)
    text = _drop_stray_joiners(_LINE_DROP.sub("", text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def clean_block(value: object) -> str:
    """Multi-line safe text (descriptions, comments, error details): line breaks and tabs stay.

    A lone carriage return (which would overwrite the line it ends) becomes a line break.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _BLOCK_DROP.sub("", text)


def safe_url(value: str | None) -> str | None:
    """``value`` if it is a plain http(s) URL fit to put inside an OSC 8 link, else None."""
    if not value or not value.isprintable() or " " in value:
        return None
    return value if value.startswith(("https://", "http://")) else None
