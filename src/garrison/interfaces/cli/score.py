"""``garrison score DETECTOR FILE``: batch scoring for the text models (docs/contracts.md).

One input per line in (``-`` reads standard input), one JSON object per line out:
``{"input", "score", "verdict", "explanation"}``. ``dga`` is scored here; ``url`` and
``email`` by ``score_url`` / ``score_email`` (a usage error, exit 2, if a build lacks one).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from garrison.core.errors import InputError, UsageError
from garrison.interfaces.cli.common import err_console

BATCH = 16_384


def write_scored(
    source: IO[bytes],
    sink: IO[str],
    score_batch: Callable[[list[bytes]], list[dict[str, Any]]],
    batch_size: int = BATCH,
) -> dict[str, int]:
    """Feed ``source``'s lines to ``score_batch`` ``batch_size`` at a time, write each result
    as one JSON line to ``sink``; the count of each verdict. Shared by every text model."""
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


def _score_dga(
    source: IO[bytes],
    sink: IO[str],
    model_path: Path | None,
    explain: bool,
    threshold: float | None,
) -> dict[str, int]:
    from garrison.detect.ml.dga.model import load_model
    from garrison.detect.ml.dga.scoring import score_lines

    model = load_model(model_path)
    return write_scored(
        source, sink, lambda lines: score_lines(lines, model, explain=explain, threshold=threshold)
    )


def _text_model(name: str) -> Callable[..., dict[str, int]]:
    """The scorer of ``garrison.interfaces.cli.score_<name>`` (its ``score_file`` function,
    same arguments as ``_score_dga``), imported when asked for."""

    def run(*args: Any) -> dict[str, int]:
        module = f"garrison.interfaces.cli.score_{name}"
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            raise UsageError(f"the {name!r} model is not available in this build") from None
        counts: dict[str, int] = found.score_file(*args)
        return counts

    return run


SCORERS: dict[str, Callable[..., dict[str, int]]] = {
    "dga": _score_dga,
    "url": _text_model("url"),
    "email": _text_model("email"),
}


def score(
    detector: Annotated[str, typer.Argument(help="Model to score with: dga, url, email.")],
    file: Annotated[str, typer.Argument(help="Input file, one item per line; '-' for stdin.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write results here (default stdout).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model artefact (default: the shipped one).")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Override the model card's threshold.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain/--no-explain", help="Include per-item explanations.")
    ] = True,
) -> None:
    """Score one input per line; write one JSON object per line."""
    scorer = SCORERS.get(detector.lower())
    if scorer is None:
        raise UsageError(f"unknown model {detector!r} (known: {', '.join(SCORERS)})")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise UsageError("--threshold must be between 0 and 1")
    if file != "-" and not Path(file).is_file():
        raise InputError(f"{file}: no such file")
    source = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        counts = scorer(source, sink, model, explain, threshold)
    finally:
        if file != "-":
            source.close()
        if out:
            sink.close()
    if out:
        summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no input"
        err_console.print(
            f"scored {sum(counts.values())} lines: {summary} -> {out}", highlight=False
        )
