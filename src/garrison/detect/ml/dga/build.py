"""Train the DGA model from a dataset folder and write the artefact with its model card.

Used by ``garrison models train dga --data DIR``. The card records what an auditor needs to
reproduce and judge the model: the training-data fingerprint (SHA-256 of every file read),
the parameters and seed, the word list's origin, the threshold and the false-positive rate
it was fixed at (on which data), metrics on held-out benign lists and the cross-source set,
library versions, and the artefact's own SHA-256.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from garrison.detect.ml.artifacts import library_versions
from garrison.detect.ml.dga.data import Names, load_dataset, read_names, to_names
from garrison.detect.ml.dga.model import FEATURES, TRUSTED_TYPES, DgaModel
from garrison.detect.ml.dga.train import TrainParams, WordList, fit_model, sample_training
from garrison.detect.ml.text import card_header, card_path, run_version, write_card

Progress = Callable[[str], None]


def default_holdout(data_dir: Path) -> list[Path]:
    """Benign lists beside a corpus ``dga`` folder that training never reads."""
    sibling = data_dir.parent / "benign-domains"
    return [p for p in (sibling / "alexa_1000.txt", sibling / "top-sites-500.json") if p.is_file()]


def heldout_lists(paths: Sequence[Path], exclude_labels: set[str]) -> dict[str, Names]:
    """Benign lists for false-positive checks, without any label training saw (the model
    reads only the label, so ``google.de`` is no test when ``google.com`` trained)."""
    out: dict[str, Names] = {}
    for path in paths:
        names = to_names(read_names(path), "benign")
        keep = [i for i, lab in enumerate(names.labels) if lab not in exclude_labels]
        out[path.name] = names.take(keep)
    return out


def _fpr(model: DgaModel, names: Names) -> dict[str, Any]:
    p = model.score(names.labels, names.suffixes)[0]
    return {
        "n": len(names),
        "fpr_at_threshold": round(float((p >= model.threshold).mean()), 4) if len(names) else None,
    }


def train_and_save(
    data_dir: Path,
    out_dir: Path,
    params: TrainParams,
    holdout: Sequence[Path] | None = None,
    progress: Progress | None = None,
    evaluation: dict[str, Any] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Train on every family in ``data_dir``; write ``dga.skops`` and ``dga.card.json``."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    say(f"reading {data_dir}")
    data = load_dataset(data_dir)
    words = WordList.load(params)
    rng = np.random.default_rng(params.seed)
    train = sample_training(data.families, data.benign, params, words, rng)
    say(f"training on {len(train)} names ({len(data.families)} families)")
    model, calib = fit_model(train, params, words, fingerprint=data.fingerprint)
    model.version = run_version(model.version)
    path = out_dir / "dga.skops"
    model.save(path)
    holdout_paths = list(holdout) if holdout is not None else default_holdout(data_dir)
    held = heldout_lists(holdout_paths, set(train.labels))
    card = {
        **card_header(
            "dga",
            model.version,
            path,
            "skops (zip); load with skops.io.load(trusted=TRUSTED_TYPES)",
            TRUSTED_TYPES,
        ),
        "task": "P(domain label is algorithmically generated), equal class priors",
        "training_data": {
            "fingerprint_sha256": data.fingerprint,
            "files": data.files,
            "rows_per_group": dict(sorted(Counter(train.groups).items())),
            "benign_dga_conflicts_dropped": data.conflicts,
            "note": "families sampled per_family each; synthetic-* rows are generated from "
            "the seed and the word list, not from any real family",
        },
        "word_list": {
            "source": "wordsegment 1.3.1 unigrams.txt x words.txt (Apache-2.0)",
            "stored_as": "64-bit hashes and -ln frequency costs",
            "words": len(words.words),
        },
        "params": params.to_json(),
        "features": list(FEATURES),
        "calibration": "Platt sigmoid on the held-out calibration split, groups weighted so "
        "benign and malicious weigh the same",
        "threshold": model.threshold,
        "threshold_fixed_at": {
            "fpr": params.target_fpr,
            "on": f"benign names of the held-out calibration split ({calib['benign_rows']} names)",
        },
        "metrics": {
            "calibration_split": calib,
            "heldout_benign": {name: _fpr(model, names) for name, names in held.items()},
            "cross_source": {"others_dga": _recall(model, data.cross_source)},
        },
        "evaluation_summary": evaluation or {},
        "libraries": library_versions(
            ("scikit-learn", "numpy", "scipy", "skops", "wordsegment", "tldextract")
        ),
        "training_seconds": round(time.perf_counter() - started, 1),
        "limitations": [
            "Scores the registered label only (example in www.example.co.uk); subdomains "
            "are the DNS-tunnel detector's business.",
            "ASCII names only: IDN/punycode labels are reported, not scored.",
            "Two-word dictionary DGAs (suppobox-like) are indistinguishable from many "
            "benign names by the name alone.",
            "False-positive rate drifts across benign populations: see heldout_benign.",
            "The OpenDNS top list read as benign holds DGA names (conficker-like short "
            "random labels under .ws/.cc/.cn/.biz): they train as benign and cap the recall "
            "at 1 % FPR measurable on short random families.",
        ],
    }
    write_card(path, card)
    say(f"wrote {path} ({card['size_bytes']:,} bytes) and {card_path(path).name}")
    return path, card


def _recall(model: DgaModel, names: Names) -> dict[str, Any]:
    if len(names) == 0:
        return {}
    p = model.score(names.labels, names.suffixes)[0]
    return {"n": len(names), "recall_at_threshold": round(float((p >= model.threshold).mean()), 4)}


def evaluation_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of a ``garrison eval dga`` report, for the model card."""
    out: dict[str, Any] = {"dataset_fingerprint": report.get("dataset_fingerprint")}
    rs = report.get("random_split")
    if rs:
        out["random_split_pooled"] = rs["pooled"]
        out["heldout_benign"] = rs["heldout_benign"]
        out["cross_source"] = rs["cross_source"]
    proto = report.get("protocol")
    if proto:
        out["held_out_together"] = [g for g in proto["groups"] if len(g) > 1]
        out["closest_generator"] = {f: g["closest"] for f, g in proto["generators"].items()}
    for key in ("leave_family_out", "leave_family_out_no_synthetic", "leave_generator_out"):
        lofo = report.get(key, {})
        if lofo:
            out[key] = {
                fam: {k: m[k] for k in ("auc", "recall_at_threshold", "recall_at_1pct_fpr_test")}
                for fam, m in lofo.get("families", {}).items()
            }
            out[f"{key}_summary"] = lofo.get("summary", {})
    dict_out = report.get("leave_dictionary_out")
    if dict_out:
        out["leave_dictionary_out"] = {
            fam: {k: m[k] for k in ("auc", "recall_at_threshold")}
            for fam, m in dict_out["families"].items()
        }
    return out


def attach_evaluation(model_path: Path, report: dict[str, Any]) -> dict[str, Any]:
    """Put an evaluation's summary into the model card, if it evaluated the same recipe on
    the same data (dataset fingerprint and every parameter but the seed-free sizes)."""
    path = card_path(model_path)
    card = json.loads(path.read_text(encoding="utf-8"))
    if report.get("dataset_fingerprint") != card["training_data"]["fingerprint_sha256"]:
        raise ValueError("the evaluation used other data than the model (fingerprints differ)")
    if report.get("params") != card["params"]:
        raise ValueError("the evaluation used other training parameters than the model")
    card["evaluation_summary"] = evaluation_summary(report)
    write_card(model_path, card)
    return card
