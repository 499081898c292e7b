"""Stages of a home model: ordered promotion, one-command rollback, the production version
is what detectors load, and a downgrade or a forged pointer is refused (issue 13)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from garrison.core.errors import Conflict, InputError, NotFound, UsageError
from garrison.detect.ml.dga.model import load_model
from garrison.govern.registry.check import verify_all
from garrison.govern.registry.gate import production_model, verify_model_file
from garrison.govern.registry.stages import load_stages, promote, rollback
from garrison.measure.ml_eval.tamper_models import registered_version


@pytest.fixture()
def two(home: Path) -> tuple[Path, Path]:
    """dga v1 and v2, registered in their own folders of the home."""
    v1 = registered_version(home, home / "models" / "v1", "dga-v1", level=1)
    v2 = registered_version(home, home / "models" / "v2", "dga-v2", level=2)
    return v1, v2


def _to_production(home: Path, version: str) -> None:
    for stage in ("shadow", "canary", "production"):
        promote(home, "dga", version, stage, "alice")


def test_moves_are_ordered(home: Path, two: tuple[Path, Path]):
    with pytest.raises(Conflict, match="must be in canary first"):
        promote(home, "dga", "dga-v1", "production", "alice")
    with pytest.raises(Conflict, match="must be in shadow first"):
        promote(home, "dga", "dga-v1", "canary", "alice")
    with pytest.raises(NotFound, match="no validly signed version 'dga-v9'"):
        promote(home, "dga", "dga-v9", "shadow", "alice")
    with pytest.raises(UsageError, match="unknown stage"):
        promote(home, "dga", "dga-v1", "staging", "alice")
    promote(home, "dga", "dga-v1", "shadow", "alice")
    with pytest.raises(Conflict, match="it is in shadow"):
        promote(home, "dga", "dga-v1", "shadow", "alice")
    state = load_stages(home).state("dga")
    assert state.stages == {"shadow": "dga-v1"} and state.production is None


def test_production_keeps_the_previous_one_and_rollback_restores_it(
    home: Path, two: tuple[Path, Path]
):
    v1, _v2 = two
    assert production_model("dga", home) is None  # the shipped model serves
    _to_production(home, "dga-v1")
    assert production_model("dga", home) == v1
    assert load_model(None, home).version == "dga-v1"  # what a detector loads
    _to_production(home, "dga-v2")
    state = load_stages(home).state("dga")
    assert state.production == "dga-v2" and state.rollback_target == "dga-v1"
    assert load_model(None, home).version == "dga-v2"
    with pytest.raises(InputError, match="dga-v1, which the registry does not point to"):
        verify_model_file(v1, home)  # the superseded version no longer loads
    move = rollback(home, "dga", "bob")
    assert (move.version, move.replaced, move.actor) == ("dga-v1", "dga-v2", "bob")
    assert load_model(None, home).version == "dga-v1"
    rollback(home, "dga", "bob")  # back to the model shipped with the package
    assert production_model("dga", home) is None
    with pytest.raises(Conflict, match="no home production version"):
        rollback(home, "dga", "bob")
    assert verify_all(home).problems == []


def test_v1_files_copied_over_v2_are_refused(home: Path, two: tuple[Path, Path]):
    v1, v2 = two
    _to_production(home, "dga-v1")
    _to_production(home, "dga-v2")
    for name in ("dga.skops", "dga.card.json"):
        shutil.copyfile(v1.parent / name, v2.parent / name)
    with pytest.raises(InputError, match="downgrade"):
        load_model(None, home)
    shutil.copytree(v1.parent, home / "elsewhere")  # v1 moved to a folder of its own
    with pytest.raises(InputError, match="older or retired version is a downgrade"):
        verify_model_file(home / "elsewhere" / "dga.skops", home)


def test_a_forged_or_removed_stage_move_is_refused(home: Path, two: tuple[Path, Path]):
    _to_production(home, "dga-v1")
    _to_production(home, "dga-v2")
    db = sqlite3.connect(home / "state.db")
    db.execute("DROP TRIGGER model_stages_no_update")
    db.execute(
        "UPDATE model_stages SET version = 'dga-v1' WHERE id = (SELECT MAX(id) FROM model_stages)"
    )
    db.commit()
    with pytest.raises(InputError, match="signature does not verify"):
        load_model(None, home)
    assert "stage-invalid" in {p.kind for p in verify_all(home).problems}
    with pytest.raises(Conflict, match="refusing to move it"):
        rollback(home, "dga", "mallory")
    db.execute("DROP TRIGGER model_stages_no_delete")
    db.execute("DELETE FROM model_stages WHERE id >= 4")  # v2's moves and the forged row
    db.execute("DELETE FROM model_stages WHERE id = 2")  # and one from the middle
    db.commit()
    db.close()
    with pytest.raises(InputError, match="a move was removed"):
        load_model(None, home)


def test_a_fresh_candidate_still_loads_by_path(home: Path, two: tuple[Path, Path]):
    _to_production(home, "dga-v1")
    v3 = registered_version(home, home / "models" / "v3", "dga-v3", level=3)
    assert load_model(v3, home).version == "dga-v3"  # trained after production: evaluable
