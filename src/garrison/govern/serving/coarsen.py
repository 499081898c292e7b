"""Response coarsening: what a client sees of a score.

``full`` leaves the result as the model gave it; ``round`` rounds the score to ``decimals``
places and drops the explanation (its feature attributions and n-gram weights are a map of
the model); ``label`` keeps the verdict alone. Why: every decimal place and every
attribution an answer carries is information a thief fits a copy to.
"""

from __future__ import annotations

from typing import Any

#: Explanation keys kept under ``round``: why a line was not scored, never how the model weighs.
_KEPT = ("reason", "note", "unicode", "registered_domain", "model_version")


def coarsen(result: dict[str, Any], mode: str, decimals: int) -> dict[str, Any]:
    """One scoring result coarsened (a new dict; the input is left as it was)."""
    if mode == "full":
        return dict(result)
    explanation = result.get("explanation")
    kept: dict[str, Any] = {}
    if isinstance(explanation, dict):
        kept = {k: explanation[k] for k in _KEPT if k in explanation}
    out: dict[str, Any] = {"input": result.get("input"), "verdict": result.get("verdict")}
    score = result.get("score")
    if mode == "round":
        out["score"] = None if score is None else round(float(score), decimals)
    else:
        out["score"] = None
    out["explanation"] = {**kept, "coarsened": mode}
    return out
