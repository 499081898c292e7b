"""``garrison score url FILE``: one URL per line in, one JSON object per line out
(``{"input", "score", "verdict", "explanation"}``; see ``garrison.detect.ml.url.scoring``)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from garrison.interfaces.cli.score import write_scored

#: Lines scored together: distinct URLs in a batch are scored once, vectorised.
BATCH = 16_384


def score_file(
    source: IO[bytes],
    sink: IO[str],
    model_path: Path | None,
    explain: bool,
    threshold: float | None,
) -> dict[str, int]:
    """Score every line of ``source`` into ``sink``; the count of each verdict."""
    from garrison.detect.ml.url.model import load_model
    from garrison.detect.ml.url.scoring import score_lines

    model = load_model(model_path)
    return write_scored(
        source,
        sink,
        lambda lines: score_lines(lines, model, explain=explain, threshold=threshold),
        BATCH,
    )
