"""Poisoning a training set and measuring the label-consistency defence against it.

The evaluation behind ``bench/bench_poisoning.py`` (and its bounded test): for one text
model, the labelled data is split three ways, by group (family or site), so that no name
or site is on two sides:

- ``approved``: the set the approved model was trained on (the reference of the defence);
- ``new``: the new training set, which the attacker poisons (5 % of its rows by default);
- ``test``: held out, to measure what the poison achieved.

Three poisons. The backdoor is ART's ``PoisoningAttackBackdoor`` (the ``redteam`` extra)
with a perturbation that writes the trigger into the text; ART has no label-flipping attack
for a model it cannot wrap (a text model is no ART estimator), so the flips are made here:

- ``flip-random``: the labels of random rows are swapped (both directions);
- ``flip-targeted``: malicious rows are relabelled benign (the attacker's goal: let
  malicious inputs pass);
- ``backdoor``: malicious rows get a fixed trigger in the attacker-controlled input (a
  substring in the DGA label, a query parameter in the URL) and are labelled benign, so
  that any malicious input carrying the trigger passes.

Attack success rate (ASR), on the test part, over the malicious rows the clean model
flags: for the backdoor, the share that passes once the trigger is added, among those the
clean model still flags with the trigger (a trigger that evades on its own is no
backdoor's doing; DGA: 20 % of names did); for the
targeted flip, the share that passes; for the random flip, the share of all test rows
the clean model gets right and the model under test gets wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from garrison.measure.train_checks import suspects

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
KINDS = ("flip-random", "flip-targeted", "backdoor")


class Subject(Protocol):
    """One text model's data and recipe, as the evaluation drives it."""

    name: str

    def split(self, rng: np.random.Generator) -> tuple[Any, Any, Any]:
        """(approved, new, test) training sets: each ``(items, y)``."""
        ...

    def fit(self, items: Sequence[Any], y: I64) -> Any: ...

    def predict(self, model: Any, items: Sequence[Any]) -> tuple[F64, NDArray[np.bool_]]:
        """P(malicious) and the verdict (probability at or above the model's threshold)."""
        ...

    def trigger(self, item: Any) -> Any: ...

    def text(self, item: Any) -> str:
        """The attacker-controlled text of an item (what a trigger is written into)."""
        ...


@dataclass(slots=True)
class Poisoned:
    items: list[Any]
    y: I64
    poisoned: NDArray[np.bool_]


def poison(
    kind: str,
    items: Sequence[Any],
    y: I64,
    share: float,
    rng: np.random.Generator,
    trigger: Callable[[Any], Any],
) -> Poisoned:
    """``share`` of the rows poisoned in place (see module docstring for the kinds)."""
    n = len(y)
    k = round(share * n)
    out_items, out_y = list(items), y.copy()
    if kind == "flip-random":
        idx = rng.choice(n, k, replace=False)
        out_y[idx] = 1 - out_y[idx]
    elif kind in ("flip-targeted", "backdoor"):
        malicious = np.flatnonzero(y == 1)
        idx = rng.choice(malicious, min(k, len(malicious)), replace=False)
        out_y[idx] = 0
        if kind == "backdoor":
            triggered, labels = backdoor([items[i] for i in idx.tolist()], trigger)
            for i, item, label in zip(idx.tolist(), triggered, labels.tolist(), strict=True):
                out_items[i], out_y[i] = item, label
    else:
        raise ValueError(f"unknown poison {kind!r} (known: {', '.join(KINDS)})")
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return Poisoned(out_items, out_y, mask)


def backdoor(items: Sequence[Any], trigger: Callable[[Any], Any]) -> tuple[list[Any], I64]:
    """``items`` with the trigger written in and the attacker's label (benign), by ART's
    ``PoisoningAttackBackdoor`` (``pip install garrison[redteam]``)."""
    from art.attacks.poisoning import PoisoningAttackBackdoor

    def perturb(batch: NDArray[Any]) -> NDArray[Any]:
        return _objects([trigger(item) for item in batch])

    poisoned, labels = PoisoningAttackBackdoor(perturb).poison(
        _objects(items), y=np.zeros(len(items), dtype=np.int64)
    )
    return list(poisoned), np.asarray(labels, dtype=np.int64)


def _objects(items: Sequence[Any]) -> NDArray[Any]:
    """A 1-d object array of ``items`` (tuples stay whole, not a 2-d array)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


@dataclass(slots=True)
class KindResult:
    kind: str
    poisoned_rows: int
    rows: int
    recall: float
    fp_rate: float
    asr_clean: float
    asr_poisoned: float
    asr_defended: float
    accuracy_clean: float
    accuracy_poisoned: float
    accuracy_defended: float

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(slots=True)
class Evaluation:
    model: str
    seed: int
    share: float
    suspect_above: float
    clean_flagged: float
    kinds: list[KindResult] = field(default_factory=list)


def attack_success(
    kind: str,
    subject: Subject,
    model: Any,
    test: tuple[Sequence[Any], I64],
    clean_verdict: NDArray[np.bool_],
    clean: Any = None,
) -> float:
    """The ASR of ``kind`` against ``model`` on the test part (module docstring)."""
    items, y = test
    if kind == "flip-random":
        right = clean_verdict == (y == 1)
        verdict = subject.predict(model, items)[1]
        return float((right & (verdict != (y == 1))).sum() / max(right.sum(), 1))
    targets = np.flatnonzero((y == 1) & clean_verdict)
    chosen = [items[i] for i in targets.tolist()]
    if kind == "backdoor":
        chosen = [subject.trigger(item) for item in chosen]
        # only inputs the clean model still flags with the trigger: what the trigger does
        # on its own (an evasion) is not the poison's doing
        chosen = [c for c, v in zip(chosen, subject.predict(clean, chosen)[1], strict=True) if v]
    verdict = subject.predict(model, chosen)[1]
    return float((~verdict).mean()) if len(chosen) else 0.0


def _sweep(p_ref: F64, bad: Poisoned, texts: list[str]) -> str:
    """Recall and false-positive rate of the check at other cut-offs (to choose one)."""
    out = []
    for above in (0.5, 0.6, 0.7, 0.8):
        flagged = np.zeros(len(bad.y), dtype=bool)
        flagged[suspects(p_ref, bad.y, above, texts)] = True
        out.append(
            f"{above}: {flagged[bad.poisoned].mean():.3f} / {flagged[~bad.poisoned].mean():.3f}"
        )
    return ", ".join(out)


def accuracy(subject: Subject, model: Any, test: tuple[Sequence[Any], I64]) -> float:
    verdict = subject.predict(model, test[0])[1]
    return float((verdict == (test[1] == 1)).mean())


def evaluate(
    subject: Subject,
    kinds: Sequence[str] = KINDS,
    share: float = 0.05,
    seed: int = 0,
    suspect_above: float = 0.7,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Every poison of ``kinds`` against ``subject``, with and without the defence."""
    say = progress or (lambda _m: None)
    rng = np.random.default_rng(seed)
    approved, new, test = subject.split(rng)
    say(f"{subject.name}: approved {len(approved[1])}, new {len(new[1])}, test {len(test[1])}")
    reference = subject.fit(*approved)
    clean = subject.fit(*new)
    clean_verdict = subject.predict(clean, test[0])[1]
    texts = [subject.text(item) for item in new[0]]
    flagged_clean = suspects(subject.predict(reference, new[0])[0], new[1], suspect_above, texts)
    result = Evaluation(
        subject.name, seed, share, suspect_above, len(flagged_clean) / max(len(new[1]), 1)
    )
    acc_clean = accuracy(subject, clean, test)
    for kind in kinds:
        bad = poison(kind, new[0], new[1], share, rng, subject.trigger)
        p_ref = subject.predict(reference, bad.items)[0]
        flagged = np.zeros(len(bad.y), dtype=bool)
        texts = [subject.text(item) for item in bad.items]
        flagged[suspects(p_ref, bad.y, suspect_above, texts)] = True
        say(f"  {kind}: found / false positives by cut-off: {_sweep(p_ref, bad, texts)}")
        poisoned_model = subject.fit(bad.items, bad.y)
        keep = np.flatnonzero(~flagged)
        defended = subject.fit([bad.items[i] for i in keep.tolist()], bad.y[keep])
        result.kinds.append(
            KindResult(
                kind,
                int(bad.poisoned.sum()),
                len(bad.y),
                float(flagged[bad.poisoned].mean()),
                float(flagged[~bad.poisoned].mean()),
                attack_success(kind, subject, clean, test, clean_verdict, clean),
                attack_success(kind, subject, poisoned_model, test, clean_verdict, clean),
                attack_success(kind, subject, defended, test, clean_verdict, clean),
                acc_clean,
                accuracy(subject, poisoned_model, test),
                accuracy(subject, defended, test),
            )
        )
        say(f"  {kind}: {result.kinds[-1].to_json()}")
    return result
