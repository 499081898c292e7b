"""The text models (``dga``, ``url``, ``email``) behind one protocol.

A text model scores one input per line: ``garrison score NAME FILE`` and ``garrison models
train NAME`` reach every one of them through ``TEXT_MODELS`` (filled by
``garrison.detect.ml.textmodels``), never through module names. What a text model offers:

- ``load(path, home)``: the artefact at ``path`` (default: the one shipped with the
  package), read once and checked by the registry gate before skops deserialises it;
- ``score_batch(model, lines, explain, threshold)``: one JSON-ready result per line,
  ``{"input", "score", "verdict", "explanation"}`` (docs/contracts.md, ``garrison score``);
- ``explain(model, lines)``: the explanation of every line, whatever its verdict;
- ``train(request, progress)``: train, write ``NAME.skops`` and ``NAME.card.json``, and
  say what was written (``Trained``);
- ``card(path)``: the model card written beside an artefact;
- ``trusted_types()``: the types outside skops' defaults the artefact may hold (the
  allowlist the loader and ``garrison models register`` check against).

This module imports nothing heavy: a model's numerical code is imported when it is used,
so ``garrison score dga`` loads the DGA model and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

from garrison.core.errors import UsageError
from garrison.core.plugins import Registry

Progress = Callable[[str], None]
P = TypeVar("P")
Result = dict[str, Any]
CARD = ".card.json"
#: The card's ``format`` of an artefact holding plain arrays only (url, email).
PLAIN_ARRAYS = "skops (zip) of plain arrays; load with skops.io.load(trusted=TRUSTED_TYPES)"


@dataclass(frozen=True, slots=True)
class TrainRequest:
    """What ``garrison models train NAME`` was asked for. The last three apply to ``dga``
    only; a model that has no use for one refuses it (a usage error, not a silent no-op)."""

    data: Path
    out: Path
    seed: int | None = None
    holdout_benign: tuple[Path, ...] = ()
    eval_report: Path | None = None
    per_family: int | None = None

    def seeded(self, params: P) -> P:
        """``params`` (a model's frozen TrainParams) with this request's seed, if given."""
        return params if self.seed is None else replace(params, seed=self.seed)  # type: ignore[type-var]

    def refuse_unused(self, model: str) -> None:
        given = {
            "--holdout-benign": bool(self.holdout_benign),
            "--eval-report": self.eval_report is not None,
            "--per-family": self.per_family is not None,
        }
        unused = [option for option, set_ in given.items() if set_]
        if unused:
            raise UsageError(f"{', '.join(unused)}: not an option of the {model} model (dga only)")


@dataclass(frozen=True, slots=True)
class Trained:
    """A training run's output: the artefact, its card and the lines that summarise it."""

    path: Path
    card: dict[str, Any]
    summary: list[str] = field(default_factory=list)


@runtime_checkable
class TextModel(Protocol):
    """What every text model offers (see the module docstring)."""

    name: str
    #: Lines scored together (features are computed per batch).
    batch: int

    def trusted_types(self) -> list[str]: ...

    def load(self, path: Path | None = None, home: Path | None = None) -> Any: ...

    def score_batch(
        self,
        model: Any,
        lines: Sequence[str | bytes],
        explain: bool = True,
        threshold: float | None = None,
    ) -> list[Result]: ...

    def explain(self, model: Any, lines: Sequence[str | bytes]) -> list[Result]: ...

    def train(self, request: TrainRequest, progress: Progress | None = None) -> Trained: ...

    def card(self, path: Path | None = None) -> dict[str, Any]: ...


TEXT_MODELS: Registry[TextModel] = Registry("model")


# --- one batch scorer -------------------------------------------------------------------


def score_stream(
    source: IO[bytes],
    sink: IO[str],
    score_batch: Callable[[list[bytes]], list[Result]],
    batch_size: int,
) -> dict[str, int]:
    """Feed ``source``'s lines to ``score_batch`` ``batch_size`` at a time and write each
    result as one JSON line to ``sink``; the count of each verdict."""
    counts: dict[str, int] = {}
    batch: list[bytes] = []

    def flush() -> None:
        for result in score_batch(batch):
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
            counts[result["verdict"]] = counts.get(result["verdict"], 0) + 1
        batch.clear()

    for line in source:
        batch.append(line)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return counts


# --- one model-card writer --------------------------------------------------------------


def card_path(model_path: Path) -> Path:
    """``NAME.card.json`` beside ``NAME.skops``."""
    return model_path.with_name(model_path.name.replace(".skops", CARD))


def read_card(model_path: Path) -> dict[str, Any]:
    """The card beside ``model_path`` ({} when there is none or it is not an object)."""
    path = card_path(model_path)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def card_header(
    name: str, version: str, path: Path, file_format: str, trusted: Sequence[str]
) -> dict[str, Any]:
    """The fields every text model's card starts with: what it is and the exact bytes."""
    return {
        "name": name,
        "version": version,
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "size_bytes": path.stat().st_size,
        "format": file_format,
        "trusted_types": list(trusted),
    }


def write_card(model_path: Path, card: dict[str, Any]) -> Path:
    """Write ``card`` beside ``model_path`` (indented JSON, one trailing newline)."""
    path = card_path(model_path)
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path


def run_version(recipe_version: str, when: datetime | None = None) -> str:
    """The version of one training run: the recipe's version (data fingerprint and
    parameters) and the UTC time it was trained, to the millisecond.

    Two runs of one recipe write different bytes (timings, library versions, zip time
    stamps), and a registered version is immutable: a run reusing the recipe's version
    would collide with the shipped model or an earlier run (``binding-conflict``). The
    recipe stays visible as the prefix, and the card's ``training_data`` and ``params``
    say how to reproduce the weights."""
    stamp = (when or datetime.now(UTC)).astimezone(UTC)
    return f"{recipe_version}.{stamp:%Y%m%dT%H%M%S}{stamp.microsecond // 1000:03d}Z"


# --- what the three models share -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parts:
    """A text model's numerical code, imported by ``ScoredTextModel.parts`` on first use:
    its loader, its line scorer and its allowlist. ``explains_all``: the scorer takes
    ``explain_all`` (attributions for every line, not only malicious verdicts)."""

    load: Callable[[Path | None, Path | None], Any]
    score_lines: Callable[..., list[Result]]
    trusted_types: Sequence[str]
    explains_all: bool = True


class ScoredTextModel:
    """The protocol in terms of ``parts()`` (and ``train``), for the text models to inherit:
    an adapter names its parts and its training; loading, scoring, explaining and the card
    are the same for all."""

    name = ""
    batch = 0

    def parts(self) -> Parts:
        raise NotImplementedError

    def trusted_types(self) -> list[str]:
        return list(self.parts().trusted_types)

    def load(self, path: Path | None = None, home: Path | None = None) -> Any:
        return self.parts().load(path, home)

    def score_batch(
        self,
        model: Any,
        lines: Sequence[str | bytes],
        explain: bool = True,
        threshold: float | None = None,
    ) -> list[Result]:
        return self.parts().score_lines(lines, model, explain=explain, threshold=threshold)

    def explain(self, model: Any, lines: Sequence[str | bytes]) -> list[Result]:
        """Every line's explanation, whatever its verdict (invalid lines: the reason)."""
        parts = self.parts()
        extra = {"explain_all": True} if parts.explains_all else {}
        return [r["explanation"] for r in parts.score_lines(lines, model, explain=True, **extra)]

    def card(self, path: Path | None = None) -> dict[str, Any]:
        from garrison.detect.ml.artifacts import shipped_model_path

        return read_card(path or shipped_model_path(f"{self.name}.skops"))
