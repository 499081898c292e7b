"""Train the email model on a corpus folder and write ``email.skops`` + ``email.card.json``.

The card records what an auditor needs: the training-data fingerprint, the parameters and
seed, the threshold and the false-positive rate it was fixed at (and on what), the
out-of-fold training metrics, the structural weights (which were learnt, which are priors,
which excluded), library versions and the artefact's own SHA-256.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from garrison.detect.ml.artifacts import library_versions
from garrison.detect.ml.email.metrics import metrics
from garrison.detect.ml.email.model import TRUSTED_TYPES
from garrison.detect.ml.email.structure import SIGNS, STRUCTURAL
from garrison.detect.ml.email.train import TrainParams, load_corpus, train
from garrison.detect.ml.text import PLAIN_ARRAYS, card_header, run_version, write_card

Progress = Callable[[str], None]


def train_and_save(
    data: Path, out_dir: Path, params: TrainParams, progress: Progress | None = None
) -> tuple[Path, dict[str, Any]]:
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    say(f"reading {data}")
    corpus = load_corpus(data)
    model, fitted, _ = train(corpus, params, say)
    model.version = run_version(model.version)
    path = out_dir / "email.skops"
    model.meta["trained_seconds"] = round(time.perf_counter() - started, 1)
    model.save(path)
    y = corpus.y
    oof = fitted.oof_probability
    structural = {
        name: {
            "weight": round(float(model.w_struct[j]), 4) + 0.0,
            "source": (
                "excluded"
                if name in params.excluded
                else "prior"
                if name in fitted.priors_applied
                else "learnt (>= 0)"
                if name in SIGNS
                else "learnt"
            ),
        }
        for j, name in enumerate(STRUCTURAL)
    }
    card: dict[str, Any] = {
        **card_header("email", model.version, path, PLAIN_ARRAYS, TRUSTED_TYPES),
        "task": "P(message is spam or phishing), equal class priors",
        "training_data": {
            "fingerprint_sha256": corpus.fingerprint,
            "files": corpus.files,
            "groups": {g: corpus.groups.count(g) for g in sorted(set(corpus.groups))},
            "filter_headers_stripped_from_messages": corpus.filter_headers_stripped,
            "unparseable": len(corpus.invalid),
            "note": "headers read: Subject, From, Reply-To, Authentication-Results, "
            "Received-SPF and MIME part headers only; no literal text is stored (hashed "
            "n-gram weights)",
        },
        "params": params.to_json(),
        "features": {
            "text": model.hasher.to_json(),
            "structural": structural,
            "nonzero_weights": {
                "word": int(np.count_nonzero(model.w_word)),
                "char": int(np.count_nonzero(model.w_char)),
            },
        },
        "calibration": "Platt sigmoid on out-of-fold logits, classes weighted equally",
        "platt": list(model.platt),
        "threshold": model.threshold,
        "threshold_fixed_at": {
            "fpr": params.target_fpr,
            "on": f"out-of-fold probabilities of the {int((y == 0).sum())} benign training "
            "messages",
        },
        "metrics": {
            "out_of_fold_training": metrics(y, oof, oof >= model.threshold, corpus.groups),
            "note": "run `garrison eval email` for the nested cross-validation, the hard-ham "
            "figures and the ablations",
        },
        "versions": library_versions(("scikit-learn", "numpy", "scipy", "skops", "tldextract")),
        "trained_seconds": model.meta["trained_seconds"],
    }
    write_card(path, card)
    return path, card
