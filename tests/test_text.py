"""The display sanitizer: what it removes, what it keeps (issue #23)."""

from __future__ import annotations

import pytest

from pmtui.text import MAX_LINE, clean_block, clean_line, safe_url


@pytest.mark.parametrize(
    ("raw", "line", "block"),
    [
        ("clip \x1b]52;c;cm0gLXJmIH4=\x07board", "clip board", "clip board"),  # OSC 52 clipboard write
        ("a\x1b]52;c;AAAA\x1b\\b", "ab", "ab"),  # ... ended by ST instead of BEL
        ("wipe\x1b[2J\x1b[Hscreen", "wipescreen", "wipescreen"),  # CSI clear screen, cursor home
        ("name \x1b]0;pwned\x07window", "name window", "name window"),  # OSC 0 window title
        ("x\x9b31mred\x9d0;t\x9cy", "xredy", "xredy"),  # 8-bit CSI and OSC
        ("d\x1bP1$qm\x1b\\cs", "dcs", "dcs"),  # DCS
        ("cut \x1b]52;c;AAAA", "cut ", "cut "),  # unterminated: removed to the end
        ("first\r\nsecond", "first second", "first\nsecond"),
        ("over\rwrite", "over write", "over\nwrite"),  # a lone CR would overwrite the line
        ("tab\there", "tab here", "tab\there"),
        ("bell\x07\x08\x00", "bell", "bell"),
        ("invoice \u202egnp.exe", "invoice gnp.exe", "invoice gnp.exe"),  # RTL override
        ("\u2066isolated\u2069", "isolated", "isolated"),
        ("zero\u200bwidth\ufeff", "zerowidth", "zero\u200bwidth\ufeff"),  # zero-width: single-line only
        ("שלום עולם", "שלום עולם", "שלום עולם"),  # RTL letters are ordinary text
        ("family 👨\u200d👩\u200d👧 ok", "family 👨\u200d👩\u200d👧 ok", "family 👨\u200d👩\u200d👧 ok"),
        ("stray\u200djoiner", "strayjoiner", "stray\u200djoiner"),
        ("  padded  cell ", "  padded  cell ", "  padded  cell "),
        ("Ünïcödé ✓ 日本語", "Ünïcödé ✓ 日本語", "Ünïcödé ✓ 日本語"),
    ],
)
def test_clean(raw: str, line: str, block: str) -> None:
    assert clean_line(raw) == line
    assert clean_block(raw) == block


def test_a_10_kB_title_is_cut_to_one_line() -> None:
    cleaned = clean_line("long " + "x" * 10_240)
    assert len(cleaned) == MAX_LINE
    assert cleaned.endswith("…")
    assert clean_line("x" * 10_240, limit=None) == "x" * 10_240


def test_non_strings_and_none() -> None:
    assert clean_line(None) == ""
    assert clean_block(None) == ""
    assert clean_line(42) == "42"
    assert "\x1b" not in clean_line(["a\x1b[2J", "b"])  # a list prints its repr: escaped, not raw


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://gitlab.com/acme/app/-/issues/1", True),
        ("http://127.0.0.1:8080/x", True),
        ("https://evil.example/\x1b]8;;x\x07", False),
        ("https://evil.example/a b", False),
        ("javascript:alert(1)", False),
        (None, False),
    ],
)
def test_safe_url(url: str | None, safe: bool) -> None:
    assert (safe_url(url) is not None) is safe
    if safe:
        assert safe_url(url) == url
