"""``garrison score url FILE``: one URL per line in, one JSON object per line out
(``{"input", "score", "verdict", "explanation"}``; see ``garrison.detect.ml.url.scoring``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

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
