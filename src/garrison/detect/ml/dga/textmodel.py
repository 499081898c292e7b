"""The DGA model behind ``TEXT_MODELS``: its parts, and training with held-out benign lists
and an optional evaluation summary in the card."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError, UsageError
from garrison.detect.ml import text


class DgaText(text.ScoredTextModel):
    """Domain names, one per line; the registered label is scored."""

    name = "dga"
    batch = 16_384

    def parts(self) -> text.Parts:
        from garrison.detect.ml.dga.model import TRUSTED_TYPES, load_model
        from garrison.detect.ml.dga.scoring import score_lines

        return text.Parts(load_model, score_lines, TRUSTED_TYPES)

    def train(
        self, request: text.TrainRequest, progress: text.Progress | None = None
    ) -> text.Trained:
        """Train on ``request.data`` (FAMILY.txt files and benign lists); the card gets the
        FPR on held-out benign lists and, given ``eval_report``, that evaluation's summary
        (refused when it evaluated other data or parameters)."""
        from garrison.detect.ml.dga.build import attach_evaluation, train_and_save
        from garrison.detect.ml.dga.train import TrainParams

        for path in request.holdout_benign:
            if not path.is_file():
                raise InputError(f"--holdout-benign {path}: no such file")
        report = _read_report(request.eval_report)
        params = request.seeded(TrainParams())
        if request.per_family is not None:
            if request.per_family < 10:
                raise UsageError("--per-family must be at least 10")
            params = replace(params, per_family=request.per_family)
        try:
            path, card = train_and_save(
                request.data,
                request.out,
                params,
                list(request.holdout_benign) or None,
                progress=progress,
            )
        except (FileNotFoundError, ModuleNotFoundError) as exc:
            raise InputError(str(exc)) from exc
        if report is not None:
            try:
                card = attach_evaluation(path, report)
            except (KeyError, ValueError) as exc:
                raise InputError(f"--eval-report not attached: {exc}") from exc
        calib = card["metrics"]["calibration_split"]
        summary = [
            f"model {card['version']}: threshold {card['threshold']:.4f} "
            f"(FPR {params.target_fpr:.0%} on the calibration split), calibration AUC "
            f"{calib['auc']}, {card['size_bytes']:,} bytes -> {path}"
        ]
        summary += [
            f"  held-out benign {list_name}: FPR {entry['fpr_at_threshold']} on {entry['n']} names"
            for list_name, entry in card["metrics"]["heldout_benign"].items()
        ]
        return text.Trained(path, card, summary)


def _read_report(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"--eval-report {path}: {exc}") from exc
    if not isinstance(report, dict):
        raise InputError(f"--eval-report {path}: not a JSON object")
    return report


text.TEXT_MODELS.register("dga")(DgaText())
