"""``garrison score MODEL FILE``: batch scoring for the text models (docs/contracts.md).

One input per line in (``-`` reads standard input), one JSON object per line out:
``{"input", "score", "verdict", "explanation"}``. Every model of ``TEXT_MODELS``
(``garrison.detect.ml.text``) is scored the same way; only the one asked for is imported.
Every line goes through the serving guard as the OS account (logged, tested for model
extraction; limited and coarsened only with ``[guard] local_limits = true``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from garrison.core.config import load_config
from garrison.core.errors import InputError, UsageError
from garrison.interfaces.cli.common import ConfigOption, HomeOption, err_console


def score(
    detector: Annotated[str, typer.Argument(help="Model to score with: dga, url, email.")],
    file: Annotated[str, typer.Argument(help="Input file, one item per line; '-' for stdin.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write results here (default stdout).")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Model artefact (default: the detector's `model` option, else the shipped one).",
        ),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Override the model card's threshold.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain/--no-explain", help="Include per-item explanations.")
    ] = True,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Score one input per line; write one JSON object per line."""
    from garrison.detect.ml.text import score_stream
    from garrison.detect.ml.textmodels import text_model
    from garrison.measure.serving import guard_for, guarded_score, scoring_client

    text = text_model(detector)
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise UsageError("--threshold must be between 0 and 1")
    if file != "-" and not Path(file).is_file():
        raise InputError(f"{file}: no such file")
    cfg = load_config(home, config)
    option = cfg.detectors.options.get(f"ml.{text.name}", {}).get("model")
    if model is None and isinstance(option, str) and option:
        model = Path(option)
    loaded = text.load(model, cfg.home)
    guard, client = guard_for(cfg.home, cfg), scoring_client(None)  # the OS account

    def plain(chunk: list[Any]) -> list[dict[str, Any]]:
        return text.score_batch(loaded, chunk, explain=explain, threshold=threshold)

    if model is None:  # the production version: a shadow version, if any, scores beside it
        from garrison.measure.shadow import shadowed

        shadow = shadowed(text, cfg.home, explain, threshold)

        def plain(chunk: list[Any]) -> list[dict[str, Any]]:
            return shadow(loaded, chunk)

    def batch(lines: list[bytes]) -> list[dict[str, Any]]:
        return guarded_score(guard, client, text.name, lines, plain, loaded)

    source = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        counts = score_stream(source, sink, batch, text.batch)
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
