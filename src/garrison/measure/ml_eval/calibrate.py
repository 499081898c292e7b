"""Fitting the shipped confidence calibrations: ``garrison models train beacon-calibration``
and ``garrison models train ueba-calibration``.

Each command runs its detector over the labelled corpus exactly as ``garrison eval`` does
(the same records: scored beacon pairs, UEBA findings), fits the detector's recipe
(``detect.ml.calibration.RECIPES``) on all of them, measures the recipe leave-one-capture-
out, and writes ``NAME.calibration.json``: the parameters, the fingerprint of the labelled
data (every input file's SHA-256 plus the generator settings of the generated background),
how it was fitted, its measured quality and plain warnings (few positives, a slope that hit
its bound). Deterministic: the same corpus and code write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from garrison.detect.ml.calibration import RECIPES, Calibration, Labelled, assess

#: ``garrison models train`` names -> the calibration they write.
TRAINABLE = {"beacon-calibration": "beacon", "ueba-calibration": "ueba"}
FILE_SUFFIX = ".calibration.json"


def fingerprint(root: Path, files: Sequence[Path], settings: dict[str, Any]) -> dict[str, Any]:
    """SHA-256 over each file's path (relative to the corpus) and content digest, and the
    settings that shape the records (generator seeds, detector configuration)."""
    digest = hashlib.sha256()
    listed = []
    for path in sorted(files):
        rel = path.relative_to(root).as_posix()
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        digest.update(f"{rel}\0{content}\n".encode())
        listed.append(rel)
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return {"fingerprint_sha256": digest.hexdigest(), "files": listed, "settings": settings}


def _counts(records: Sequence[Labelled]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in records:
        entry = out.setdefault(r.capture, {"records": 0, "positives": 0})
        entry["records"] += 1
        entry["positives"] += r.label
    return dict(sorted(out.items()))


def _warnings(
    calibration: Calibration, records: Sequence[Labelled], evaluation: dict[str, Any]
) -> list[str]:
    positives = sum(r.label for r in records)
    out = [evaluation["transfer_note"]] if evaluation.get("transfer_note") else []
    if positives < 30:
        out.append(
            f"only {positives} labelled positives among {len(records)} records: the mapping "
            "is rough; read its probabilities as coarse bands, not percentages"
        )
    if calibration.slope == 0.0:
        out.append(
            "the fitted slope hit its bound (0): on this data the detector's score does not "
            "rank true above false positives"
            + (" within an analytic" if calibration.offsets else "")
            + ", so the calibrated confidence is the smoothed share of true positives"
            + (" of each analytic" if calibration.offsets else "")
        )
    folds = {r.capture for r in records}
    alone = sorted(c for c in folds if all(r.capture == c for r in records if r.label))
    if positives and len(alone) == 1:
        out.append(f"every positive comes from one capture ({alone[0]})")
    return out


def build(
    name: str, records: Sequence[Labelled], data: dict[str, Any], detector: str, version: str
) -> Calibration:
    """Fit the recipe on all records; attach fingerprint, counts, quality and warnings."""
    recipe = RECIPES[name]
    calibration = recipe.fit(records, name)
    evaluation = assess(records, recipe, name)
    calibration.meta = {
        "detector": detector,
        "detector_version": version,
        **recipe.describe(),
        "fitted_on": {
            **data,
            "records": len(records),
            "positives": sum(r.label for r in records),
            "per_capture": _counts(records),
        },
        "evaluation": evaluation,
        "warnings": _warnings(calibration, records, evaluation),
        "created_by": f"garrison models train {name}-calibration --data CORPUS",
    }
    return calibration


def train_beacon(corpus: Path) -> Calibration:
    from garrison.detect.ml.beacon.detector import MODEL_VERSION, BeaconConfig
    from garrison.measure.ml_eval.beacon_eval import TRUTH, evaluate_capture, labelled_records
    from garrison.measure.ml_eval.zeek_raw import capture_files

    root = corpus / "zeek-stratosphere"
    folders = [f for f in sorted(root.iterdir()) if f.is_dir() and f.name in TRUTH]
    config = BeaconConfig(calibration="none")
    results = [evaluate_capture(folder, config) for folder in folders]
    files = [file for folder in folders for file in capture_files(folder)]
    truth = {
        k: {
            "kind": v.kind,
            "infected_hosts": sorted(v.infected_hosts),
            "c2_ports": sorted(v.c2_ports),
            "labels_are_c2": v.labels_are_c2,
        }
        for k, v in sorted(TRUTH.items())
    }
    settings = {"detector_config": asdict(config), "truth": truth}
    data = fingerprint(corpus, files, settings)
    data["excluded_unknown"] = sum(1 for r in results for *_, label in r.pairs if label is None)
    return build("beacon", labelled_records(results), data, "ml.beacon", MODEL_VERSION)


def train_ueba(corpus: Path, lanl_users: int = 300) -> Calibration:
    from garrison.detect.ml.ueba.common import MODEL_VERSION, UebaConfig
    from garrison.measure.ml_eval.ueba_eval import corpus_sets, labelled_records

    config = UebaConfig(calibration="none")
    sets = corpus_sets(corpus, config, lanl_users)
    files = [
        corpus / "auth" / "openssh-loghub" / "OpenSSH_2k.log",
        corpus / "auth" / "lanl-redteam" / "redteam_processed.csv",
        *sorted((corpus / "mordor").glob("*.zip")),
    ]
    settings = {
        "detector_config": asdict(config),
        "lanl_background": {"users": lanl_users, "seed": 7},
        "mordor_background": {"days": 21, "seed": 11},
        "folds": "openssh-loghub, lanl-redteam, mordor (one fold: shared background)",
    }
    data = fingerprint(corpus, files, settings)
    return build("ueba", labelled_records(sets), data, "ml.ueba", MODEL_VERSION)


TRAINERS: dict[str, Callable[[Path], Calibration]] = {
    "beacon": train_beacon,
    "ueba": train_ueba,
}


def train(target: str, corpus: Path, out_dir: Path) -> tuple[Path, Calibration]:
    """Fit the calibration ``target`` (a ``TRAINABLE`` name) and write it under ``out_dir``."""
    name = TRAINABLE[target]
    calibration = TRAINERS[name](corpus)
    path = out_dir / f"{name}{FILE_SUFFIX}"
    calibration.save(path)
    return path, calibration
