"""Honest evaluation of the URL model: ``garrison eval url``.

Splits (after dropping duplicate URLs, which a random split would otherwise put on both
sides): a random split, and a split by registered domain (no site in both train and test),
the one that says how the model does on sites it has never seen. Per split the shipped
recipe is retrained on the training part (its threshold fixed at 1 % FPR on held-out
training sites) and measured on the test part: AUC, accuracy, precision / recall and FPR
at that threshold, recall at 1 % FPR on the test part itself.

Ablation: the same recipe reading the raw URL (scheme, ``www.``, trailing slash,
``&amp;``, PhishTank's ``abuse@``) plus the ARTEFACT features. Its gain is what the corpus's
collection artefacts are worth; the ``rewritten`` figures show what the artefacts cost
on URLs from elsewhere: test phishing URLs rewritten to ``https://www.`` (most phishing
is served over https today), test legitimate URLs rewritten to ``http://`` without
``www.``. The floor: TF-IDF character 1-4-grams and logistic regression, on the raw URL (the
corpus README's baseline) and on the normalized URL the model reads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from garrison.core.errors import InputError
from garrison.detect.ml.url.data import UrlSet, group_split, load_urls, random_split
from garrison.detect.ml.url.parse import ParsedUrl, parse_url
from garrison.detect.ml.url.train import TrainParams, fit_model, metrics

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class EvalConfig:
    params: TrainParams = field(default_factory=TrainParams)
    test_share: float = 0.2
    baseline: bool = True
    ablation: bool = True


def rewrite(url: ParsedUrl, https_www: bool) -> ParsedUrl:
    """The URL as another source might list it: ``https://www.`` + host, or ``http://``
    without ``www.``; path, query and e-mail redaction as written."""
    text = url.text
    body = text.split("://", 1)[1] if "://" in text else text
    if body.lower().startswith("www."):
        body = body[4:]
    new = f"https://www.{body}" if https_www and not url.ip else f"http://{body}"
    out = parse_url(new)
    return out if out.ok else url


def _floor(train: UrlSet, test: UrlSet, normalized: bool) -> dict[str, Any]:
    """The char n-gram floor on the raw URL (as the corpus README's baseline) or on the
    normalized form the model reads, with the same rewritten-URL checks."""

    def text(u: ParsedUrl) -> str:
        return u.key if normalized else u.text

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), min_df=2, sublinear_tf=True)
    x_train = vec.fit_transform([text(u) for u in train.urls])
    clf = LogisticRegression(C=10.0, solver="liblinear", max_iter=300)
    clf.fit(x_train, train.labels)

    def proba(urls: list[ParsedUrl]) -> NDArray[np.float64]:
        return np.asarray(clf.predict_proba(vec.transform([text(u) for u in urls]))[:, 1])

    p = proba(test.urls)
    out = metrics(test.labels, p, 0.5)
    out["note"] = (
        "TF-IDF char 1-4-grams of the "
        + ("normalized" if normalized else "raw")
        + " URL + logistic regression, threshold 0.5"
    )
    out["rewritten"] = _rewritten(test, lambda urls: proba(urls) >= 0.5)
    return out


def _rewritten(
    test: UrlSet, flag: Callable[[list[ParsedUrl]], NDArray[np.bool_]]
) -> dict[str, Any]:
    pairs = list(zip(test.urls, test.labels.tolist(), strict=True))
    phish = [rewrite(u, True) for u, y in pairs if y == 1]
    legit = [rewrite(u, False) for u, y in pairs if y == 0]
    return {
        "phishing_as_https_www_recall": round(float(flag(phish).mean()), 5),
        "legitimate_as_http_fpr": round(float(flag(legit).mean()), 5),
    }


def artefact_strength(data: UrlSet) -> dict[str, Any]:
    """How well each collection artefact alone separates the two files (AUC of the raw
    value, direction-free: 0.5 = no information), and the share of each class having it."""
    from sklearn.metrics import roc_auc_score

    y = data.labels
    values = {
        "scheme_https": [float(u.scheme == "https") for u in data.urls],
        "no_scheme": [float(u.scheme == "") for u in data.urls],
        "www_prefix": [float(u.www) for u in data.urls],
        "trailing_slash": [float(u.text.split("?", 1)[0].endswith("/")) for u in data.urls],
        "html_escaped_amp": [float("&amp;" in u.text) for u in data.urls],
        "redacted_abuse_email": [float("abuse@" in u.text) for u in data.urls],
        "url_length": [float(len(u.text)) for u in data.urls],
    }
    out: dict[str, Any] = {}
    for name, col in values.items():
        x = np.asarray(col)
        auc = float(roc_auc_score(y, x)) if 0 < y.sum() < len(y) else 0.5
        row: dict[str, Any] = {"auc_alone": round(max(auc, 1 - auc), 4)}
        if name != "url_length":
            row["phishing_share"] = round(float(x[y == 1].mean()), 4)
            row["legitimate_share"] = round(float(x[y == 0].mean()), 4)
        else:
            row["phishing_median"] = float(np.median(x[y == 1]))
            row["legitimate_median"] = float(np.median(x[y == 0]))
        out[name] = row
    return out


def _run(train: UrlSet, test: UrlSet, params: TrainParams) -> dict[str, Any]:
    model, calib = fit_model(train, params)
    p, _ = model.score(test.urls)
    out = metrics(test.labels, p, model.threshold)
    out["threshold"] = round(model.threshold, 6)
    out["calibration_split"] = calib
    out["rewritten"] = _rewritten(test, lambda urls: model.score(urls)[0] >= model.threshold)
    return out


def _splits(
    data: UrlSet, cfg: EvalConfig
) -> dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]]:
    seed = cfg.params.seed
    return {
        "random": random_split(len(data), cfg.test_share, np.random.default_rng(seed + 1)),
        "by_domain": group_split(data.sites, cfg.test_share, np.random.default_rng(seed + 2)),
    }


def evaluate(data: UrlSet, cfg: EvalConfig, progress: Progress | None = None) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    report: dict[str, Any] = {
        "dataset_fingerprint": data.fingerprint,
        "dataset": data.counts,
        "params": cfg.params.to_json(),
        "artefacts": artefact_strength(data),
        "splits": {},
    }
    for name, (tr, te) in _splits(data, cfg).items():
        train, test = data.take(tr), data.take(te)
        shared = set(train.sites) & set(test.sites)
        entry: dict[str, Any] = {
            "train": len(train),
            "test": len(test),
            "sites_in_both": len(shared),
        }
        started = time.perf_counter()
        say(f"{name}: shipped recipe ({len(train)} train / {len(test)} test)")
        entry["model"] = _run(train, test, cfg.params)
        if cfg.ablation:
            say(f"{name}: ablation (raw URL + artefact features)")
            entry["with_artefacts"] = _run(train, test, replace(cfg.params, artefacts=True))
        if cfg.baseline:
            say(f"{name}: char n-gram floor (raw and normalized URL)")
            entry["floor"] = _floor(train, test, normalized=False)
            entry["floor_normalized"] = _floor(train, test, normalized=True)
        entry["seconds"] = round(time.perf_counter() - started, 1)
        report["splits"][name] = entry
    return report


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Headline figures of a report, for the model card."""
    keys = ("auc", "accuracy", "precision", "recall", "fpr_at_threshold", "recall_at_1pct_fpr")
    out: dict[str, Any] = {"dataset_fingerprint": report.get("dataset_fingerprint")}
    for name, entry in report.get("splits", {}).items():
        row: dict[str, Any] = {}
        for variant in ("model", "with_artefacts", "floor", "floor_normalized"):
            if variant in entry:
                m = entry[variant]
                row[variant] = {k: m.get(k) for k in keys}
                if "rewritten" in m:
                    row[variant]["rewritten"] = m["rewritten"]
        out[name] = row
    return out


def evaluate_folder(
    data: Path, cfg: EvalConfig, progress: Progress | None = None
) -> dict[str, Any]:
    """``garrison eval url``: load the URL folder and evaluate; ``seconds`` is the wall time."""
    dataset = load_urls(data)
    started = time.perf_counter()
    report = evaluate(dataset, cfg, progress=progress)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def attach_to_card(card_file: Path, report: dict[str, Any]) -> None:
    """Write the report's ``summary`` into a model card trained on the same data with the
    same parameters (``InputError`` otherwise: a card must describe its own model)."""
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"--card {card_file}: {exc}") from exc
    if card.get("training_data", {}).get("fingerprint_sha256") != report["dataset_fingerprint"]:
        raise InputError("--card: the model was trained on other data (fingerprints differ)")
    if card.get("params") != report["params"]:
        raise InputError("--card: the model was trained with other parameters")
    card["evaluation_summary"] = summary(report)
    card_file.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
