"""Shadow comparison (issue 13, item 6): a shadow version scores the same inputs beside
production during scoring; the caller gets production's results; the report gives the
agreement, latency and precision on labelled feedback; a broken shadow never disturbs
production."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from garrison.core.errors import InputError
from garrison.govern.registry.stages import promote
from garrison.measure.lifecycle import LifecycleService
from garrison.measure.ml_eval.tamper_models import registered_version
from garrison.measure.shadow import read_labels
from garrison.measure.training import ModelService
from tests.models_cli import invoke

NAMES = ["google.com", "wikipedia.org", "xkqjzvbwplmt.com", "qwzxkjvbnmpl.net", "github.com"]


def test_shadow_scores_beside_production(home: Path, tmp_path: Path) -> None:
    registered_version(home, home / "models" / "v1", "dga-v1")
    registered_version(home, home / "models" / "v2", "dga-v2", threshold=0.0)  # flags all
    promote(home, "dga", "dga-v2", "shadow", "olga")
    service = ModelService.open(home, actor="olga")
    results = service.score("dga", NAMES)
    shipped = ModelService.open(tmp_path / "empty", actor="olga").score("dga", NAMES)
    assert results == shipped  # the caller gets production's (here: the shipped) results
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "\n".join(
            json.dumps({"input": n, "label": "malicious" if i in (2, 3) else "benign"})
            for i, n in enumerate(NAMES)
        )
    )
    lifecycle = LifecycleService.open(home, actor="olga")
    data = lifecycle.shadow_report("dga", labels).as_json()
    flagged = sum(r["verdict"] == "malicious" for r in results)
    assert data["shadow"] == "dga-v2" and data["lines"] == len(NAMES) and data["batches"] == 1
    assert data["malicious"] == {"production": flagged, "shadow": len(NAMES)}
    assert data["agreement"] == flagged / len(NAMES)
    assert data["labelled"]["shadow"]["precision"] == 0.4  # flags everything: 2 of 5
    assert data["labelled"]["shadow"]["recall"] == 1.0
    assert data["ms_per_line"]["shadow"] is not None
    assert len(data["disagreements"]) == len(NAMES) - flagged
    code, out = invoke(["models", "shadow-report", "dga", "--home", str(home)])
    assert code == 0 and "shadow dga-v2 beside production" in out


def test_a_broken_shadow_never_disturbs_production(home: Path) -> None:
    v2 = registered_version(home, home / "models" / "v2", "dga-v2")
    promote(home, "dga", "dga-v2", "shadow", "olga")
    shutil.copyfile(v2, v2.with_name("dga.card.json"))  # the shadow no longer loads
    results = ModelService.open(home, actor="olga").score("dga", NAMES)
    assert len(results) == len(NAMES)
    data = LifecycleService.open(home, actor="olga").shadow_report("dga").as_json()
    assert data["batches"] == 1 and data["failed_batches"] == 1 and data["lines"] == 0


def test_no_shadow_and_bad_labels(home: Path, tmp_path: Path) -> None:
    data = LifecycleService.open(home, actor="olga").shadow_report("dga").as_json()
    assert data["shadow"] is None and data["lines"] == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "x", "label": "maybe"}\n')
    with pytest.raises(InputError, match="label must be malicious or benign"):
        read_labels(bad)
    bad.write_text("not json\n")
    with pytest.raises(InputError, match=":1: not a JSON object"):
        read_labels(bad)


def test_scoring_follows_a_promotion_and_a_rollback_at_once(home: Path) -> None:
    registered_version(home, home / "models" / "v1", "dga-v1", threshold=0.0)  # flags all
    service = ModelService.open(home, actor="olga")
    before = service.score("dga", NAMES)
    for stage in ("shadow", "canary", "production"):
        promote(home, "dga", "dga-v1", stage, "olga")
    after = service.score("dga", NAMES)
    assert all(r["verdict"] == "malicious" for r in after) and after != before
    LifecycleService.open(home, actor="olga").rollback("dga")
    assert service.score("dga", NAMES) == before
