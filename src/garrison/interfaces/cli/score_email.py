"""``garrison score email FILE``: one JSON object per input line (``raw``, or ``subject`` and
``body``), one result per line out (see ``garrison.detect.ml.email.scoring``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

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
    counts: dict[str, int] = {}
    batch: list[bytes] = []

    def flush() -> None:
        for result in score_lines(batch, model, explain=explain, threshold=threshold):
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
            counts[result["verdict"]] = counts.get(result["verdict"], 0) + 1
        batch.clear()

    for line in source:
        batch.append(line)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return counts
