"""``email`` as a text model (``garrison.detect.ml.text``): load, score, explain, train,
card. Input lines are JSON objects (``raw``, or ``subject`` and ``body``).

Light to import: the model's numerical code is imported by the method that needs it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
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


class EmailText(ScoredTextModel):
    """E-mail messages, one JSON object per line; every scored line is explained."""

    name = "email"
    #: Messages scored together (features are computed per batch).
    batch = 256

    def trusted_types(self) -> list[str]:
        from garrison.detect.ml.email.model import TRUSTED_TYPES

        return list(TRUSTED_TYPES)

    def load(self, path: Path | None = None, home: Path | None = None) -> Any:
        from garrison.detect.ml.email.model import load_model

        return load_model(path, home)

    def score_batch(
        self,
        model: Any,
        lines: Sequence[str | bytes],
        explain: bool = True,
        threshold: float | None = None,
    ) -> list[Result]:
        from garrison.detect.ml.email.scoring import score_lines

        return score_lines(lines, model, explain=explain, threshold=threshold)

    def train(self, request: TrainRequest, progress: Progress | None = None) -> Trained:
        """Train on a corpus folder; threshold fixed on out-of-fold benign scores."""
        from garrison.detect.ml.email.build import train_and_save
        from garrison.detect.ml.email.train import TrainParams

        request.refuse_unused(self.name)
        params = TrainParams()
        if request.seed is not None:
            params = dataclasses.replace(params, seed=request.seed)
        try:
            path, card = train_and_save(request.data, request.out, params, progress)
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise InputError(f"--data {request.data}: {exc}") from exc
        oof = card["metrics"]["out_of_fold_training"]
        return Trained(
            path,
            card,
            [
                f"model {card['version']}: threshold {card['threshold']:.4f} (FPR "
                f"{params.target_fpr:.0%} on out-of-fold benign training scores); "
                f"out-of-fold AUC {oof['auc']}, F1 {oof['f1']}, hard-ham FPR "
                f"{oof.get('hard_ham_fpr')}; {card['size_bytes']:,} bytes -> {path}"
            ],
        )


TEXT_MODELS.register("email")(EmailText())
