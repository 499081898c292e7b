"""Attacker-controlled text made safe to show on a terminal.

Log fields, rule titles, file names and intel values reach the analyst's terminal. A raw
ESC starts a control sequence: ``ESC[2J`` clears the screen, ``ESC]52;...`` writes the
clipboard, ``ESC]8;;URL`` hides a hyperlink, a bare CR overwrites the line, U+202E reverses
what follows. ``visible`` turns every character that is not printable into its Python
escape (``\\x1b``, ``\\r``, ``\\u202e``), so the text is shown, never obeyed. It is the one
function every command uses before text reaches the terminal (``interfaces.cli.common.show``
adds markup escaping for rich on top of it).

"Not printable" is ``str.isprintable``: C0 and C1 controls, DEL, format characters (bidi
overrides and isolates, zero-width joiners), line and paragraph separators, surrogates
(undecodable bytes of file names) and unassigned code points. Ordinary space stays.
"""

from __future__ import annotations

__all__ = ["visible", "visible_lines"]


def _escape(ch: str) -> str:
    return ch.encode("unicode_escape").decode("ascii")


def visible(text: object, width: int | None = None) -> str:
    """``text`` with every non-printable character shown as its escape, cut to ``width``.

    Newlines are escaped too: one value stays on one line (a table cell, a ``skipped``
    line). Use ``visible_lines`` for text whose line breaks are meant.
    """
    raw = text if isinstance(text, str) else str(text)
    safe = (
        raw if raw.isprintable() else "".join(ch if ch.isprintable() else _escape(ch) for ch in raw)
    )
    return safe[:width] if width is not None else safe


def visible_lines(text: object) -> str:
    """As ``visible``, keeping ``\\n`` line breaks (a description of several lines)."""
    raw = text if isinstance(text, str) else str(text)
    return "\n".join(visible(line) for line in raw.split("\n"))
