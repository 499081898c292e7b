"""Evaluating the anomaly estimators on the 13 ADBench tabular sets.

Protocol (ADBench's unsupervised setting): each estimator is fitted on the whole set
without labels and scores the same rows; the labels only compute ROC-AUC. The floor is
scikit-learn's ``IsolationForest`` with its defaults, called directly. Every stochastic
model runs with several seeds; the mean and the standard deviation are reported.
``max_rows`` (stratified, seeded subsample) keeps a quick run quick; the figures in the
report come from the full sets.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from garrison.detect.ml.anomaly.estimators import ESTIMATORS, make


def load(path: Path, max_rows: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        X = np.asarray(data["X"], dtype=float)
        y = np.asarray(data["y"]).astype(int).ravel()
    if max_rows is not None and X.shape[0] > max_rows:
        rng = np.random.default_rng(seed)
        keep: list[int] = []
        for label in np.unique(y):
            idx = np.flatnonzero(y == label)
            share = max(1, round(max_rows * idx.size / y.size))
            keep.extend(rng.choice(idx, size=min(share, idx.size), replace=False).tolist())
        order = np.sort(np.asarray(keep))
        X, y = X[order], y[order]
    return X, y


def _floor(X: np.ndarray, seed: int) -> np.ndarray:
    return np.asarray(-IsolationForest(random_state=seed).fit(X).score_samples(X))


def evaluate_set(
    path: Path, estimators: list[str], seeds: list[int], max_rows: int | None = None
) -> dict[str, Any]:
    X, y = load(path, max_rows)
    row: dict[str, Any] = {
        "set": path.stem,
        "rows": int(X.shape[0]),
        "features": int(X.shape[1]),
        "outlier_share": round(float(y.mean()), 4),
    }
    runs: dict[str, list[float]] = {"sklearn_iforest_floor": []}
    seconds: dict[str, float] = {"sklearn_iforest_floor": 0.0}
    for seed in seeds:
        started = time.perf_counter()
        runs["sklearn_iforest_floor"].append(roc_auc_score(y, _floor(X, seed)))
        seconds["sklearn_iforest_floor"] += time.perf_counter() - started
        for name in estimators:
            started = time.perf_counter()
            scores = make(name, seed).fit(X).score(X)
            runs.setdefault(name, []).append(roc_auc_score(y, scores))
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
    for name, aucs in runs.items():
        row[name] = {
            "auc": round(float(np.mean(aucs)), 4),
            "sd": round(float(np.std(aucs)), 4),
            "seconds": round(seconds[name] / len(seeds), 2),
        }
    return row


def evaluate(
    corpus: Path,
    estimators: list[str] | None = None,
    seeds: list[int] | None = None,
    max_rows: int | None = None,
) -> dict[str, Any]:
    names = estimators or list(ESTIMATORS)
    seed_list = seeds or [0, 1, 2]
    rows = [
        evaluate_set(p, names, seed_list, max_rows)
        for p in sorted((corpus / "anomaly-adbench").glob("*.npz"))
    ]
    summary: dict[str, Any] = {}
    for name in ["sklearn_iforest_floor", *names]:
        aucs = [r[name]["auc"] for r in rows]
        summary[name] = {"mean_auc": round(float(np.mean(aucs)), 4)}
    for name in names:
        summary[name]["sets_at_or_above_floor"] = sum(
            1 for r in rows if r[name]["auc"] >= r["sklearn_iforest_floor"]["auc"] - 1e-9
        )
    return {"sets": rows, "summary": summary, "seeds": seed_list, "max_rows": max_rows}


def evaluate_detector_on_zeek(corpus: Path) -> list[dict[str, Any]]:
    """``ml.anomaly`` over each labelled Stratosphere capture: what it reports, and the label
    mix of the flows the reported source IP originated (labels read by the evaluation only)."""
    from collections import Counter

    from garrison.detect.ml.anomaly import AnomalyDetector
    from garrison.measure.ml_eval.zeek_raw import capture_files, read_capture_file

    out: list[dict[str, Any]] = []
    root = corpus / "zeek-stratosphere"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        detector = AnomalyDetector()
        labels: dict[str, Counter[str]] = {}
        for file in capture_files(folder, ("conn", "dns", "http", "ssl")):
            batch = []
            for item in read_capture_file(file):
                batch.append(item.event)
                src = str(item.event.fields.get("id.orig_h", ""))
                if item.label is not None and item.path == "conn":
                    labels.setdefault(src, Counter())[item.label.label] += 1
            detector.observe(batch)
        findings = detector.finish()
        reported = []
        for f in findings:
            ip = next((e.value for e in f.entities if e.kind == "ip"), "")
            reported.append(
                {
                    "title": f.title,
                    "confidence": f.confidence,
                    "labels_of_source": dict(labels.get(ip, Counter())),
                }
            )
        out.append({"capture": folder.name, "findings": reported, "stats": detector.stats()})
    return out
