"""Each text model's training set as the training-data checks read it.

For every model the checks need the same four things, built here from the model's own
loaders so that the checks see what training sees:

- ``raw``: the records as written in the dataset folder (a pandas frame) for schema and
  range validation, before the model's loader drops anything it cannot parse;
- ``y`` and ``texts``: the rows training fits on, labels 0/1 (1 = malicious) and the text
  of each (for messages and examples);
- ``x``: a dense matrix in the model's own feature space (DGA: the engineered features of
  the label; URL: the lexical features; e-mail: the structural features), for drift;
- ``reference_scores``: P(malicious) of every row under the approved model, for the
  label-consistency check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

    from garrison.detect.ml.text import TrainRequest

F64 = NDArray[np.float64]


@dataclass(slots=True)
class TrainingSet:
    model: str
    raw: pd.DataFrame
    texts: list[str]
    y: NDArray[np.int64]
    x: F64
    features: tuple[str, ...]
    #: P(malicious) under a given model, for every row (``reference_scores``).
    score: Callable[[Any], F64]
    fingerprint: str = ""
    #: The attacker-controlled text of each row, where a backdoor trigger would be written
    #: (None: the trigger search is not run, e.g. whole e-mail messages).
    content: list[str] | None = None


# --- DGA -----------------------------------------------------------------------------------


def dga_set(request: TrainRequest) -> TrainingSet:
    """The rows ``garrison models train dga`` fits on (same seed, same sample)."""
    import pandas as pd

    from garrison.detect.ml.dga.data import BENIGN, BENIGN_PREFIXES, load_dataset, read_names
    from garrison.detect.ml.dga.train import TrainParams, WordList, sample_training

    params = request.seeded(TrainParams())
    if request.per_family is not None:
        params = replace(params, per_family=request.per_family)
    rows: list[tuple[str, str, int]] = []
    for path in sorted(request.data.glob("*.txt")):
        stem = path.stem.lower()
        benign = stem.startswith(BENIGN_PREFIXES)
        group = BENIGN if benign else stem
        rows += [(name, group, 0 if benign else 1) for name in read_names(path)]
    raw = pd.DataFrame(rows, columns=["domain", "group", "label"])
    data = load_dataset(request.data)
    words = WordList.load(params)
    train = sample_training(
        data.families, data.benign, params, words, np.random.default_rng(params.seed)
    )
    x, names = dga_features(train.labels, words, params)

    def score(model: Any) -> F64:
        return np.asarray(model.score(train.labels, train.suffixes)[0], dtype=np.float64)

    return TrainingSet(
        "dga", raw, list(train.domains), train.y, x, names, score, data.fingerprint,
        list(train.labels),
    )  # fmt: skip


def dga_features(labels: list[str], words: Any, params: Any) -> tuple[F64, tuple[str, ...]]:
    """The DGA model's engineered features, its character model fitted on the word list
    only (so no training row, poisoned or not, moves it)."""
    from garrison.detect.ml.dga.encoding import encode
    from garrison.detect.ml.dga.features import (
        ENGINEERED,
        CharModel,
        engineered_features,
        trigram_counts,
    )

    wc, wl = encode(words.words)
    char = CharModel.from_counts(trigram_counts(wc, wl), params.char_alpha)
    codes, lengths = encode(labels)
    x = engineered_features(codes, lengths, [""] * len(labels), char, words.table(params))
    return x.astype(np.float64), tuple(ENGINEERED)


# --- URL -----------------------------------------------------------------------------------


def url_set(request: TrainRequest) -> TrainingSet:
    import pandas as pd

    from garrison.detect.ml.url.data import label_of, load_urls, read_urls
    from garrison.detect.ml.url.lexical import LEXICAL, lexical_matrix

    rows: list[tuple[str, int]] = []
    for path in sorted(p for p in request.data.iterdir() if p.is_file()):
        label = label_of(path)
        if label is not None:
            rows += [(u, label) for u in read_urls(path)]
    raw = pd.DataFrame(rows, columns=["url", "label"])
    data = load_urls(request.data)
    x = lexical_matrix(data.urls).astype(np.float64)

    def score(model: Any) -> F64:
        return np.asarray(model.probability(model.terms(data.urls).logit), dtype=np.float64)

    texts = [u.text for u in data.urls]
    return TrainingSet(
        "url", raw, texts, data.labels, x, tuple(LEXICAL), score, data.fingerprint, texts
    )


# --- e-mail --------------------------------------------------------------------------------


def email_set(request: TrainRequest) -> TrainingSet:
    import pandas as pd

    from garrison.detect.ml.email.model import featurise
    from garrison.detect.ml.email.structure import STRUCTURAL
    from garrison.detect.ml.email.train import TrainParams, load_corpus

    rows: list[dict[str, Any]] = []
    for path in sorted(request.data.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                rows.append(_email_row(path.name, n, line))
    raw = pd.DataFrame(rows, columns=["id", "group", "label", "text"])
    corpus = load_corpus(request.data)
    feats = featurise(corpus.messages, request.seeded(TrainParams()).hasher())

    def score(model: Any) -> F64:
        return np.asarray(model.score(corpus.messages)[0], dtype=np.float64)

    texts = [f"{i} ({g})" for i, g in zip(corpus.ids, corpus.groups, strict=True)]
    x = np.asarray(feats.struct, dtype=np.float64)
    return TrainingSet(
        "email", raw, texts, corpus.y, x, tuple(STRUCTURAL), score, corpus.fingerprint
    )


def _email_row(file: str, line_no: int, line: str) -> dict[str, Any]:
    """One JSON line as schema columns; a line that is not a JSON object keeps its place
    with None values so the schema names it, instead of vanishing."""
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        return {"id": f"{file}:{line_no}", "group": None, "label": None, "text": None}
    return {k: obj.get(k) for k in ("id", "group", "label", "text")}


LOADERS: dict[str, Callable[[TrainRequest], TrainingSet]] = {
    "dga": dga_set,
    "url": url_set,
    "email": email_set,
}


def model_class(name: str) -> Any:
    """The artefact class of a text model (its ``load(path)`` applies the skops allowlist)."""
    if name == "dga":
        from garrison.detect.ml.dga.model import DgaModel

        return DgaModel
    if name == "url":
        from garrison.detect.ml.url.model import UrlModel

        return UrlModel
    from garrison.detect.ml.email.model import EmailModel

    return EmailModel


def trained_path(out: Path, name: str) -> Path:
    return out / f"{name}.skops"
