"""``garrison score email FILE``: one JSON object per input line (``raw``, or ``subject`` and
``body``), one result per line out (see ``garrison.detect.ml.email.scoring``)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from garrison.interfaces.cli.score import write_scored

#: Messages scored together (features are computed per batch).
BATCH = 256


def score_file(
    source: IO[bytes],
    sink: IO[str],
    model_path: Path | None,
    explain: bool,
    threshold: float | None,
) -> dict[str, int]:
    """Score every line of ``source`` into ``sink``; the verdict counts."""
    from garrison.detect.ml.email.model import load_model
    from garrison.detect.ml.email.scoring import score_lines

    model = load_model(model_path)
    return write_scored(
        source,
        sink,
        lambda lines: score_lines(lines, model, explain=explain, threshold=threshold),
        BATCH,
    )
