"""Shadow comparison: the version in shadow scores the same inputs beside production.

When a model has a version in the ``shadow`` stage (``garrison models promote NAME V --to
shadow``), every batch scored through ``ModelService.score`` (the API's scoring route) or
``garrison score`` (without ``--model``) is scored by the shadow version too. The caller
only ever gets production's results; the shadow's are compared and kept in
``HOME/state.db``: per line the two verdicts and scores (the input truncated to 256
characters, stored as data: it is attacker-controlled text), per batch the time each
model took. A shadow version that fails to load or to score never disturbs production: the
failure is counted and the batch goes on.

``garrison models shadow-report NAME [--labels FILE]`` sums it up for the current shadow
version: agreement, each model's malicious rate and latency per line, examples of
disagreement, and, given labelled feedback (one JSON object per line, ``{"input": ...,
"label": "malicious"|"benign"}``), each model's precision and recall on the labelled inputs
it scored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.core.timeutil import now_ms

KEEP = 256  # characters of each input kept for the report
DDL = """
CREATE TABLE IF NOT EXISTS model_shadow_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL, shadow TEXT NOT NULL, production TEXT NOT NULL,
    lines INTEGER NOT NULL, production_s REAL NOT NULL, shadow_s REAL NOT NULL,
    failed TEXT, at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS model_shadow_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL, shadow TEXT NOT NULL, input TEXT NOT NULL,
    production_verdict TEXT NOT NULL, shadow_verdict TEXT NOT NULL,
    production_score REAL, shadow_score REAL
);
CREATE INDEX IF NOT EXISTS model_shadow_lines_name ON model_shadow_lines (name, shadow);
"""

Batch = Callable[[Any, Sequence[str | bytes]], list[dict[str, Any]]]


def shadow_version(home: Path, name: str) -> tuple[str, Path] | None:
    """The version of ``name`` in shadow and its model file, None when there is none."""
    if not (home / "state.db").is_file():
        return None
    from garrison.govern.registry.artifacts import primary_file
    from garrison.govern.registry.stages import load_stages, placed_folder
    from garrison.govern.registry.store import HomeRegistry

    stages = load_stages(home)
    version = stages.state(name).stages.get("shadow")
    if version is None or stages.broken(name):
        return None
    with HomeRegistry.open(home, create=False) as registry:
        if registry is None:
            return None
        folder = placed_folder(registry, home, name, version)
        entry = next(
            (e for e in registry.entries() if (e.name, e.version) == (name, version)), None
        )
    if folder is None or entry is None:
        return None
    return version, folder / primary_file(name, entry.files)


def _text(line: str | bytes) -> str:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    return text.rstrip("\r\n")[:KEEP]


@dataclass(slots=True)
class Shadowed:
    """Production's batch scorer with the shadow version scored beside it."""

    home: Path
    name: str
    score: Batch
    load: Callable[[Path], Any]
    production: str = ""

    def __call__(self, model: Any, lines: Sequence[str | bytes]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        results = self.score(model, lines)
        production_s = time.perf_counter() - started
        found = shadow_version(self.home, self.name)
        if found is None:
            return results
        version, path = found
        self.production = str(getattr(model, "version", "") or "shipped")
        shadow: list[dict[str, Any]] = []
        failed = None
        started = time.perf_counter()
        try:
            shadow = self.score(self.load(path), lines)
        except (InputError, ValueError, KeyError, TypeError) as exc:
            failed = f"{type(exc).__name__}: {exc}"[:500]
        self._record(version, lines, results, shadow, production_s,
                     time.perf_counter() - started, failed)  # fmt: skip
        return results

    def _record(self, version: str, lines: Sequence[str | bytes], results: list[dict[str, Any]],
                shadow: list[dict[str, Any]], production_s: float, shadow_s: float,
                failed: str | None) -> None:  # fmt: skip
        from garrison.store.state import StateDB

        db = StateDB(self.home / "state.db")
        try:
            db.ensure(DDL)
            with db.transaction() as conn:
                conn.execute(
                    "INSERT INTO model_shadow_batches (name, shadow, production, lines, "
                    "production_s, shadow_s, failed, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.name, version, self.production, len(lines), production_s, shadow_s,
                     failed, now_ms()),
                )  # fmt: skip
                conn.executemany(
                    "INSERT INTO model_shadow_lines (name, shadow, input, production_verdict, "
                    "shadow_verdict, production_score, shadow_score) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (self.name, version, _text(line), p["verdict"], s["verdict"],
                         p.get("score"), s.get("score"))
                        for line, p, s in zip(lines, results, shadow, strict=False)
                    ],
                )  # fmt: skip
        finally:
            db.close()


def shadowed(
    text: Any, home: Path, explain: bool = True, threshold: float | None = None
) -> Shadowed:
    """The batch scorer of the text model ``text`` (production's results) with its shadow
    version, if any, scored and compared beside it."""

    def score(model: Any, lines: Sequence[str | bytes]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = text.score_batch(
            model, list(lines), explain=explain, threshold=threshold
        )
        return results

    return Shadowed(home, text.name, score, lambda path: text.load(path, home))


@dataclass(slots=True)
class ShadowReport:
    name: str
    shadow: str | None
    batches: int = 0
    failed_batches: int = 0
    lines: int = 0
    agree: int = 0
    malicious: dict[str, int] = field(default_factory=lambda: {"production": 0, "shadow": 0})
    ms_per_line: dict[str, float | None] = field(default_factory=dict)
    labelled: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shadow": self.shadow,
            "batches": self.batches,
            "failed_batches": self.failed_batches,
            "lines": self.lines,
            "agreement": round(self.agree / self.lines, 4) if self.lines else None,
            "malicious": self.malicious,
            "ms_per_line": self.ms_per_line,
            "labelled": self.labelled,
            "disagreements": self.disagreements,
        }


def report(home: Path, name: str, labels: dict[str, str] | None = None) -> ShadowReport:
    """The comparison of ``name``'s current shadow version with production (module doc)."""
    found = shadow_version(home, name)
    out = ShadowReport(name, found[0] if found else None)
    if found is None or not (home / "state.db").is_file():
        return out
    from garrison.store.state import StateDB

    db = StateDB(home / "state.db")
    try:
        db.ensure(DDL)
        batches = db.query(
            "SELECT COUNT(*), COUNT(failed), SUM(production_s), SUM(shadow_s), "
            "SUM(CASE WHEN failed IS NULL THEN lines ELSE 0 END), SUM(lines) "
            "FROM model_shadow_batches WHERE name = ? AND shadow = ?",
            (name, out.shadow),
        )[0]
        rows = db.query(
            "SELECT input, production_verdict, shadow_verdict, production_score, shadow_score "
            "FROM model_shadow_lines WHERE name = ? AND shadow = ? ORDER BY id",
            (name, out.shadow),
        )
    finally:
        db.close()
    _fill(out, batches, rows, labels or {})
    return out


def _fill(out: ShadowReport, batches: tuple[object, ...], rows: list[tuple[object, ...]],
          labels: dict[str, str]) -> None:  # fmt: skip
    count, failed, prod_s, shadow_s, shadow_lines, all_lines = (
        float(str(v)) if v is not None else 0.0 for v in batches
    )
    out.batches, out.failed_batches, out.lines = int(count), int(failed), len(rows)
    out.ms_per_line = {
        "production": round(1000 * prod_s / all_lines, 3) if all_lines else None,
        "shadow": round(1000 * shadow_s / shadow_lines, 3) if shadow_lines else None,
    }
    tallies = {m: {"tp": 0, "fp": 0, "fn": 0, "n": 0} for m in ("production", "shadow")}
    for text, p_verdict, s_verdict, p_score, s_score in rows:
        out.agree += p_verdict == s_verdict
        for model, verdict in (("production", p_verdict), ("shadow", s_verdict)):
            out.malicious[model] += verdict == "malicious"
            label = labels.get(str(text))
            if label is not None:
                tally = tallies[model]
                tally["n"] += 1
                hit, truth = verdict == "malicious", label == "malicious"
                tally["tp"] += hit and truth
                tally["fp"] += hit and not truth
                tally["fn"] += truth and not hit
        if p_verdict != s_verdict and len(out.disagreements) < 10:
            out.disagreements.append({"input": text, "production": p_verdict,
                                      "shadow": s_verdict, "production_score": p_score,
                                      "shadow_score": s_score})  # fmt: skip
    if labels:
        out.labelled = {m: _precision_recall(t) for m, t in tallies.items()}


def _precision_recall(t: dict[str, int]) -> dict[str, float | int | None]:
    flagged, positives = t["tp"] + t["fp"], t["tp"] + t["fn"]
    return {
        "labelled_lines": t["n"],
        "precision": round(t["tp"] / flagged, 4) if flagged else None,
        "recall": round(t["tp"] / positives, 4) if positives else None,
    }


def read_labels(path: Path) -> dict[str, str]:
    """Labelled feedback: one JSON object per line, ``{"input", "label"}``."""
    out: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--labels {path}: cannot read it ({type(exc).__name__})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, label = str(row["input"]), str(row["label"])
        except (ValueError, KeyError, TypeError):
            raise InputError(
                f"--labels {path}:{number}: not a JSON object with input and label"
            ) from None
        if label not in ("malicious", "benign"):
            raise InputError(f"--labels {path}:{number}: label must be malicious or benign")
        out[_text(text)] = label
    return out
