"""``garrison models train email --data DIR [--out DIR] [--seed N]``: train the email model
(``garrison.detect.ml.email.build``) and print its threshold and out-of-fold figures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from garrison.core.errors import InputError
from garrison.interfaces.cli.common import console, err_console


def train_model(data: Path, out: Path, seed: int | None) -> None:
    from garrison.detect.ml.email.build import train_and_save
    from garrison.detect.ml.email.train import TrainParams

    params = TrainParams() if seed is None else dataclasses.replace(TrainParams(), seed=seed)
    try:
        path, card = train_and_save(
            data, out, params, progress=lambda m: err_console.print(m, highlight=False)
        )
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise InputError(f"--data {data}: {exc}") from exc
    oof = card["metrics"]["out_of_fold_training"]
    console.print(
        f"model {card['version']}: threshold {card['threshold']:.4f} (FPR "
        f"{params.target_fpr:.0%} on out-of-fold benign training scores); out-of-fold AUC "
        f"{oof['auc']}, F1 {oof['f1']}, hard-ham FPR {oof.get('hard_ham_fpr')}; "
        f"{card['size_bytes']:,} bytes -> {path}",
        highlight=False,
    )
