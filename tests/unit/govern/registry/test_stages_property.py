"""Properties of the stage replay and the release-signature reader, for any input."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.govern.registry.release import SIGNATURE, UnsignedManifest, _read_signature
from garrison.govern.registry.stages import BEFORE, SHIPPED, STAGES, Move, StageState, replay

VERSIONS = st.sampled_from(["v1", "v2", "v3", "v4"])
OPS = st.lists(
    st.one_of(st.tuples(st.just("promote"), VERSIONS, st.sampled_from(STAGES)),
              st.tuples(st.just("rollback"), st.just(""), st.just("production"))),
    max_size=40,
)  # fmt: skip


def _legal(state: StageState, op: tuple[str, str, str]) -> Move | None:
    """The move ``promote``/``rollback`` would write for ``op``, None when refused."""
    action, version, stage = op
    if action == "rollback":
        if state.rollback_target is None or state.production is None:
            return None
        return Move(0, "m", state.rollback_target, "rollback", "production",
                    state.production, 0, "a", "", "k", "s")  # fmt: skip
    if state.stage_of(version) != BEFORE[stage]:
        return None
    return Move(
        0, "m", version, "promote", stage, state.stages.get(stage, ""), 0, "a", "", "k", "s"
    )


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_stages_hold_their_invariants_for_any_sequence_of_moves(ops: list) -> None:
    state, moves, productions = StageState("m"), [], [SHIPPED]
    for op in ops:
        move = _legal(state, op)
        if move is None:
            continue
        before = state.production
        state.apply(move)
        moves.append(move)
        if move.action == "promote" and move.stage == "production":
            productions.append(move.version)
            assert state.rollback_target == (before if before is not None else SHIPPED)
        if move.action == "rollback":
            productions.pop()
            assert state.production == (productions[-1] or None)
        staged = list(state.stages.values())
        assert len(staged) == len(set(staged))  # a version holds one stage at a time
        assert set(state.stages) <= set(STAGES)
        assert (state.production or SHIPPED) == productions[-1]
    assert replay(moves).get("m", StageState("m")).stages == state.stages  # replay = live


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_any_signature_file_is_refused_cleanly(tmp_path_factory, data: bytes) -> None:
    folder: Path = tmp_path_factory.mktemp("sig")
    (folder / SIGNATURE).write_bytes(data)
    try:
        _read_signature(folder / SIGNATURE)
    except UnsignedManifest:
        return
    raise AssertionError("random bytes were read as a canonical release signature")
