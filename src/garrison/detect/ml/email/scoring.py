"""Batch scoring of JSON input lines: the engine behind ``garrison score email FILE``.

Each input line is one JSON object, ``{"raw": "<RFC 822 message>"}`` or ``{"subject": ...,
"body": ...}``; each gives exactly one output object, in order. A line that is not valid
UTF-8 JSON, not an object, or lacks both shapes gets ``"verdict": "invalid"``, ``"score":
null`` and the reason. ``input`` echoes a short form of the input (an id if the object had
one, the subject, the input shape), not the whole message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from garrison.detect.ml.email.model import EmailModel
from garrison.detect.ml.email.parse import ParsedEmail, parse_input

#: Longest input line read (a whole message with attachments fits; more is refused).
MAX_LINE = 8_000_000


def _echo(obj: Any, msg: ParsedEmail | None) -> dict[str, Any]:
    echo: dict[str, Any] = {}
    if isinstance(obj, dict):
        ident = obj.get("id")
        if isinstance(ident, str | int) and not isinstance(ident, bool):
            echo["id"] = ident if isinstance(ident, int) else ident[:200]
        echo["shape"] = "raw" if "raw" in obj else "subject+body"
    if msg is not None and msg.subject:
        echo["subject"] = msg.subject[:300]
    return echo


def _invalid(echo: dict[str, Any], reason: str) -> dict[str, Any]:
    return {"input": echo, "score": None, "verdict": "invalid", "explanation": {"reason": reason}}


def _read(line: str | bytes) -> tuple[Any, str]:
    if len(line) > MAX_LINE:
        return None, f"line longer than {MAX_LINE} bytes"
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            return None, "not valid UTF-8"
    if not line.strip():
        return None, "empty line"
    try:
        return json.loads(line), ""
    except (ValueError, RecursionError):
        return None, "not valid JSON"


def score_lines(
    lines: Sequence[str | bytes],
    model: EmailModel,
    explain: bool = True,
    threshold: float | None = None,
) -> list[dict[str, Any]]:
    """One result object per line (see module docstring)."""
    cut = model.threshold if threshold is None else threshold
    out: list[dict[str, Any]] = []
    scorable: list[tuple[int, ParsedEmail]] = []
    for line in lines:
        obj, why = _read(line)
        if why:
            out.append(_invalid({}, why))
            continue
        msg = parse_input(obj)
        echo = _echo(obj, msg)
        if msg.invalid:
            out.append(_invalid(echo, msg.invalid))
            continue
        out.append({"input": echo, "score": None, "verdict": "invalid", "explanation": {}})
        scorable.append((len(out) - 1, msg))
    if not scorable:
        return out
    probs, feats = model.score([m for _, m in scorable])
    for row, (slot, msg) in enumerate(scorable):
        p = float(probs[row])
        expl: dict[str, Any] = {"threshold": round(cut, 4), "model_version": model.version}
        if explain:
            expl.update(model.explain(feats, row))
        if msg.notes:
            expl["notes"] = msg.notes
        out[slot].update(
            score=round(p, 6),
            verdict="malicious" if p >= cut else "benign",
            explanation=expl,
        )
    return out
