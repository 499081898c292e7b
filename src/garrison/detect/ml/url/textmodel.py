"""``url`` as a text model (``garrison.detect.ml.text``): load, score, explain, train, card.

Light to import: the model's numerical code is imported by the method that needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.detect.ml.text import (
    TEXT_MODELS,
    Progress,
    Result,
    ScoredTextModel,
    Trained,
    TrainRequest,
)


class UrlText(ScoredTextModel):
    """URLs, one per line; distinct normalized URLs in a batch are scored once."""

    name = "url"
    batch = 16_384

    def trusted_types(self) -> list[str]:
        from garrison.detect.ml.url.model import TRUSTED_TYPES

        return list(TRUSTED_TYPES)

    def load(self, path: Path | None = None, home: Path | None = None) -> Any:
        from garrison.detect.ml.url.model import load_model

        return load_model(path, home)

    def score_batch(
        self,
        model: Any,
        lines: Sequence[str | bytes],
        explain: bool = True,
        threshold: float | None = None,
    ) -> list[Result]:
        from garrison.detect.ml.url.scoring import score_lines

        return score_lines(lines, model, explain=explain, threshold=threshold)

    def score_batch_all(self, model: Any, lines: Sequence[str | bytes]) -> list[Result]:
        from garrison.detect.ml.url.scoring import score_lines

        return score_lines(lines, model, explain=True, explain_all=True)

    def train(self, request: TrainRequest, progress: Progress | None = None) -> Trained:
        """Train on a labelled folder; threshold fixed on held-out calibration sites."""
        from garrison.detect.ml.url.build import train_and_save
        from garrison.detect.ml.url.train import TrainParams

        request.refuse_unused(self.name)
        params = TrainParams()
        if request.seed is not None:
            params = replace(params, seed=request.seed)
        try:
            path, card = train_and_save(request.data, request.out, params, progress=progress)
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(str(exc)) from exc
        calib = card["metrics"]["calibration_sites"]
        return Trained(
            path,
            card,
            [
                f"model {card['version']}: threshold {card['threshold']:.4f} (FPR "
                f"{params.target_fpr:.0%} on held-out calibration sites), calibration AUC "
                f"{calib['auc']}, recall {calib['recall']}, {card['size_bytes']:,} bytes -> "
                f"{path}"
            ],
        )


TEXT_MODELS.register("url")(UrlText())
