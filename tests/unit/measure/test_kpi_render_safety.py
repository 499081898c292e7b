"""Rule and detector names in the KPI tables come from rule files: they are rendered as
plain text, control characters visible, rich markup inert."""

from __future__ import annotations

import io

from rich.console import Console

from garrison.measure.kpi.report import rules

HOSTILE = "Evil \x1b]52;c;AAAA\x07 [link=https://evil.example]rule[/link] \u202eexe"


def test_rule_names_are_shown_not_obeyed():
    row = {
        "analytic_name": HOSTILE,
        "analytic_uid": "x",
        "findings": 3,
        "tp": 0,
        "btp": 0,
        "fp": 3,
        "fp_rate": 1.0,
    }
    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(rules({"rules": [row]}))
    out = buf.getvalue()
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b]52;c;AAAA\\x07" in out and "[link=https://evil.example]" in out
