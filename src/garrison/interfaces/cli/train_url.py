"""``garrison models train url --data DIR [--out DIR] [--seed N]``: train the phishing-URL
model (``garrison.detect.ml.url``) and write ``url.skops`` with ``url.card.json``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from garrison.core.errors import InputError
from garrison.interfaces.cli.common import console, err_console


def train_model(data: Path, out: Path, seed: int | None) -> None:
    from garrison.detect.ml.url.build import train_and_save
    from garrison.detect.ml.url.train import TrainParams

    params = TrainParams() if seed is None else replace(TrainParams(), seed=seed)
    try:
        path, card = train_and_save(
            data, out, params, progress=lambda m: err_console.print(m, highlight=False)
        )
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(str(exc)) from exc
    calib = card["metrics"]["calibration_sites"]
    console.print(
        f"model {card['version']}: threshold {card['threshold']:.4f} (FPR "
        f"{params.target_fpr:.0%} on held-out calibration sites), calibration AUC "
        f"{calib['auc']}, recall {calib['recall']}, {card['size_bytes']:,} bytes -> {path}",
        highlight=False,
    )
