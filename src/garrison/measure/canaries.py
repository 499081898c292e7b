"""Canary records: a small fixed set per text model with the verdict any sane model of that
kind gives, checked on every newly trained model before it is registered.

A canary is not an evaluation (a handful of records measures nothing): it catches a model
that is broken or was trained to wave one thing through (``google.com`` flagged, a
textbook random DGA name or a credential-phishing URL let pass, an input the attacker
planted a trigger for). The records are data, ``canaries.yaml`` beside each model package::

    model: dga
    canaries:
      - input: google.com
        expect: benign
        why: the most common benign name

What "as expected" means: a ``malicious`` canary must get the verdict malicious at the
model's own threshold (the attacker's aim is a miss, and a miss is a verdict); a ``benign``
canary must get a probability of malicious below 0.5. The benign side is judged on the
calibrated probability rather than the verdict because a threshold fixed at 1 % FPR on a
small, perfectly separable training set can sit at 1e-6, where any text unlike the
training ham is "flagged": that is a property of the data set (the card shows it), not a
model trained to misjudge the canary.

For ``email`` an input is a mapping (``subject`` and ``body``, or ``raw``), scored as the
JSON line ``garrison score email`` reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.core.safeyaml import load as load_yaml

VERDICTS = ("benign", "malicious")


@dataclass(frozen=True, slots=True)
class Canary:
    input: str
    expect: str
    why: str = ""


def canaries(name: str, text: str | None = None) -> list[Canary]:
    """The canaries of model ``name`` (from ``text``, default the shipped YAML)."""
    if text is None:
        ref = resources.files("garrison.detect.ml").joinpath(name, "canaries.yaml")
        text = ref.read_text(encoding="utf-8")
    data = load_yaml(text)
    if not isinstance(data, dict) or data.get("model") != name:
        raise InputError(f"canaries of {name}: not a mapping with model: {name}")
    rows = data.get("canaries")
    if not isinstance(rows, list) or not rows:
        raise InputError(f"canaries of {name}: no canaries list")
    return [_canary(name, i, row) for i, row in enumerate(rows, 1)]


def _canary(name: str, i: int, row: Any) -> Canary:
    if not isinstance(row, dict) or row.get("expect") not in VERDICTS or "input" not in row:
        raise InputError(f"canaries of {name}: entry {i} needs input and expect benign|malicious")
    value = row["input"]
    line = json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)
    return Canary(line, str(row["expect"]), str(row.get("why", "")))


def run_canaries(name: str, model_path: Path) -> tuple[list[str], int]:
    """(one line per canary the model at ``model_path`` gets wrong, number of canaries).
    The model is read with its skops allowlist (it is not registered yet)."""
    from garrison.detect.ml.textmodels import text_model
    from garrison.measure.train_data import model_class

    rows = canaries(name)
    model = model_class(name).load(model_path)
    results = text_model(name).score_batch(model, [c.input for c in rows], explain=False)
    wrong = [
        f"{c.input[:80]!r}: {r['verdict']} (score {r['score']}), expected {c.expect}"
        + (f" ({c.why})" if c.why else "")
        for c, r in zip(rows, results, strict=True)
        if not as_expected(c.expect, r)
    ]
    return wrong, len(rows)


def as_expected(expect: str, result: dict[str, Any]) -> bool:
    """Whether a scored canary came out as expected (module docstring)."""
    if expect == "malicious":
        return bool(result["verdict"] == "malicious")
    score = result.get("score")
    return isinstance(score, int | float) and score < 0.5
