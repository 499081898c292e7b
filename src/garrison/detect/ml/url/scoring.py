"""Batch scoring of raw input lines: the engine behind ``garrison score url FILE``.

Every input line gives exactly one output object, in order. Lines that cannot be scored
(not UTF-8, empty, too long, control characters, another scheme, a host that is neither a
DNS name nor an address) get ``"verdict": "invalid"``, ``"score": null`` and the reason.
Each distinct normalized URL is scored once per batch.

With ``explain``, every scored line carries the registered domain, the threshold and the
model version, and the exact log-odds terms (bias, host n-grams, path n-grams, lexical
features, the heaviest features and n-grams) for lines judged malicious; ``explain_all``
adds them to every scored line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from garrison.detect.ml.lines import decode_line
from garrison.detect.ml.url.model import UrlModel
from garrison.detect.ml.url.parse import MAX_URL, ParsedUrl, parse_url


def _invalid(text: str, reason: str) -> dict[str, Any]:
    return {
        "input": text[:MAX_URL],
        "score": None,
        "verdict": "invalid",
        "explanation": {"reason": reason},
    }


def score_lines(
    lines: Sequence[str | bytes],
    model: UrlModel,
    explain: bool = True,
    threshold: float | None = None,
    explain_all: bool = False,
) -> list[dict[str, Any]]:
    """One result object per line (see module docstring)."""
    cut = model.threshold if threshold is None else threshold
    out: list[dict[str, Any] | None] = [None] * len(lines)
    keys: dict[str, int] = {}
    unique: list[ParsedUrl] = []
    slots: list[tuple[int, str, ParsedUrl, int]] = []
    for i, line in enumerate(lines):
        text, why = decode_line(line)
        if why:
            out[i] = _invalid(text, why)
            continue
        parsed = parse_url(text)
        if not parsed.ok:
            out[i] = _invalid(text, parsed.reason)
            continue
        slot = keys.get(parsed.key)
        if slot is None:
            slot = keys[parsed.key] = len(unique)
            unique.append(parsed)
        slots.append((i, text, parsed, slot))
    if unique:
        probs, terms = model.score(unique)
        notes: dict[int, dict[str, Any]] = {}
        if explain:
            chosen = [j for j in range(len(unique)) if explain_all or probs[j] >= cut]
            sub = terms.take(chosen)
            for j, note in zip(
                chosen, model.explain([unique[j] for j in chosen], sub), strict=True
            ):
                notes[j] = note
        rounded = np.round(probs, 6).tolist()
        for i, text, parsed, slot in slots:
            p = rounded[slot]
            expl: dict[str, Any] = {}
            if explain:
                expl = {
                    "host": parsed.host,
                    "registered_domain": parsed.registered or None,
                    "threshold": round(cut, 6),
                    "model_version": model.version,
                    **notes.get(slot, {"attribution": "computed for malicious verdicts only"}),
                }
            out[i] = {
                "input": text,
                "score": p,
                "verdict": "malicious" if p >= cut else "benign",
                "explanation": expl,
            }
    return [o for o in out if o is not None]
