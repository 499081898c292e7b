"""Stages of a home model: shadow -> canary -> production, with one-step rollback.

Each move is one signed, append-only row of ``model_stages`` in ``HOME/state.db`` (SQLite
triggers refuse UPDATE and DELETE, as for the entries). What a model's stages are now is
the replay of its rows in order, so there is no mutable pointer to forge:

- ``promote NAME VERSION --to shadow``: a registered version not staged now;
- ``--to canary``: the version in shadow; ``--to production``: the version in canary;
  the production version it replaces becomes the rollback target (the shipped model when
  there was no home production version);
- ``rollback NAME``: production goes back to the previous production version.

Every row is signed with the home's key and chained to the row before it for the same
model (the SHA-256 of that row's signature): an edited, inserted, reordered or deleted row
(short of the newest ones) no longer verifies, and the loader refuses the model with the
reason instead of trusting a forged pointer. What a row cannot show is the deletion of the
newest rows by someone who can write the database: the audit log, which records every move
with its actor, is where that shows.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from garrison.core.errors import Conflict, NotFound, UsageError
from garrison.core.timeutil import now_ms
from garrison.govern.registry.keys import signing_key, trusted_keys, verify_signature
from garrison.govern.registry.problems import Problem
from garrison.govern.registry.store import (
    FORMAT,
    Entry,
    HomeRegistry,
    Placement,
    canonical,
    decode_signature,
)

STAGES = ("shadow", "canary", "production")
#: The stage a version must hold to move to each stage (None: not staged at all).
BEFORE: dict[str, str | None] = {"shadow": None, "canary": "shadow", "production": "canary"}
#: What a rollback target of "the model shipped with the package" is stored as.
SHIPPED = ""

DDL = """
CREATE TABLE IF NOT EXISTS model_stages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    action TEXT NOT NULL,
    stage TEXT NOT NULL,
    replaced TEXT NOT NULL,
    moved INTEGER NOT NULL,
    actor TEXT NOT NULL,
    chain TEXT NOT NULL,
    signer TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS model_stages_no_update BEFORE UPDATE ON model_stages
BEGIN SELECT RAISE(ABORT, 'model stage moves are immutable'); END;
CREATE TRIGGER IF NOT EXISTS model_stages_no_delete BEFORE DELETE ON model_stages
BEGIN SELECT RAISE(ABORT, 'model stage moves are immutable'); END;
"""

COLUMNS = "id, name, version, action, stage, replaced, moved, actor, chain, signer, signature"


@dataclass(frozen=True, slots=True)
class Move:
    """One signed stage move: ``version`` of ``name`` now holds ``stage``; ``replaced`` is
    the version that held it before ("" when none)."""

    id: int
    name: str
    version: str
    action: str  # "promote" or "rollback"
    stage: str
    replaced: str
    moved: int
    actor: str
    chain: str
    signer: str
    signature: str

    def payload(self) -> bytes:
        """What the signature covers: every field but the row id and the signature."""
        signed = {k: v for k, v in asdict(self).items() if k not in ("id", "signature")}
        return canonical({"format": FORMAT, "kind": "model-stage", **signed})


def chain_of(previous: Move | None) -> str:
    """What the next move of a model is chained to: the previous move's signature."""
    if previous is None:
        return ""
    return hashlib.sha256(previous.signature.encode("ascii", "replace")).hexdigest()


@dataclass(slots=True)
class StageState:
    """A model's stages now: one version per stage, and the production versions a rollback
    returns to, newest last (``SHIPPED`` for the package's own model)."""

    name: str
    stages: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    ever: set[str] = field(default_factory=set)

    @property
    def production(self) -> str | None:
        return self.stages.get("production")

    @property
    def rollback_target(self) -> str | None:
        """The version a rollback restores (``SHIPPED``: the package's model), or None."""
        return self.history[-1] if self.history else None

    def stage_of(self, version: str) -> str | None:
        return next((s for s, v in self.stages.items() if v == version), None)

    def apply(self, move: Move) -> None:
        self.ever.add(move.version)
        if move.action == "rollback":
            if self.history:
                self.history.pop()
            if move.version == SHIPPED:
                self.stages.pop("production", None)
            else:
                self.stages["production"] = move.version
            return
        before = self.stage_of(move.version)
        if before is not None:
            del self.stages[before]
        if move.stage == "production":
            self.history.append(self.stages.get("production", SHIPPED))
        self.stages[move.stage] = move.version


def replay(moves: Sequence[Move]) -> dict[str, StageState]:
    """Every model's stages after ``moves`` (in id order)."""
    out: dict[str, StageState] = {}
    for move in moves:
        out.setdefault(move.name, StageState(move.name)).apply(move)
    return out


def move_problems(moves: Sequence[Move], trusted: Mapping[str, Ed25519PublicKey]) -> list[Problem]:
    """Every stage row that is not signed by a trusted key or breaks its model's chain."""
    out: list[Problem] = []
    last: dict[str, Move] = {}
    for move in moves:
        where = f"stage move #{move.id} ({move.action} {move.version or 'shipped'} to {move.stage})"
        key = trusted.get(move.signer)
        if key is None:
            detail = f"{where} signed by {move.signer}, not a key this home trusts"
            out.append(Problem("stage-invalid", "home", move.name, detail))
        elif not verify_signature(key, decode_signature(move.signature), move.payload()):
            detail = f"{where}: signature does not verify (edited or forged)"
            out.append(Problem("stage-invalid", "home", move.name, detail))
        elif move.chain != chain_of(last.get(move.name)):
            detail = f"{where} does not follow the model's previous move (a move was removed)"
            out.append(Problem("stage-invalid", "home", move.name, detail))
        last[move.name] = move
    return out


def read_moves(registry: HomeRegistry) -> list[Move]:
    """Every stage move in id order (none when the table was never made: reading creates
    nothing)."""
    made = registry.db.query(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'model_stages'"
    )
    if not made:
        return []
    rows = registry.db.query(f"SELECT {COLUMNS} FROM model_stages ORDER BY id")  # noqa: S608 - constant column list
    return [_move(row) for row in rows]


def _move(r: tuple[object, ...]) -> Move:
    t = [str(v) for v in r]
    return Move(int(t[0]), t[1], t[2], t[3], t[4], t[5], int(t[6]), t[7], t[8], t[9], t[10])


@dataclass(frozen=True, slots=True)
class Stages:
    """A home's verified stage moves and the stages they add up to."""

    moves: list[Move]
    problems: list[Problem]
    states: dict[str, StageState]

    def state(self, name: str) -> StageState:
        return self.states.get(name, StageState(name))

    def broken(self, name: str) -> list[Problem]:
        return [p for p in self.problems if p.name == name]


def load_stages(home: Path) -> Stages:
    """The stages of every model in ``home`` (nothing when the home has no database)."""
    with HomeRegistry.open(home, create=False) as registry:
        moves = read_moves(registry) if registry is not None else []
    problems = move_problems(moves, trusted_keys(home)) if moves else []
    return Stages(moves, problems, replay(moves))


def signed_by_trusted(item: Entry | Placement, trusted: Mapping[str, Ed25519PublicKey]) -> bool:
    """Whether a registry row carries a valid signature by a key the home trusts."""
    key = trusted.get(item.signer)
    return key is not None and verify_signature(
        key, decode_signature(item.signature), item.payload()
    )


def _valid_entries(registry: HomeRegistry, home: Path, name: str) -> dict[str, Entry]:
    trusted = trusted_keys(home)
    return {
        e.version: e for e in registry.entries() if e.name == name and signed_by_trusted(e, trusted)
    }


def promote(home: Path, name: str, version: str, stage: str, actor: str) -> Move:
    """Move ``version`` of ``name`` to ``stage`` (module docstring); the signed row."""
    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}: stages are {', '.join(STAGES)}")
    with HomeRegistry.open(home) as registry:
        assert registry is not None  # noqa: S101 - open(create=True) yields a registry
        registry.db.ensure(DDL)
        with registry.db.transaction() as conn:  # read and append as one step
            return _promote(registry, conn, home, name, version, stage, actor)


def _promote(registry: HomeRegistry, conn: Any, home: Path, name: str, version: str,
             stage: str, actor: str) -> Move:  # fmt: skip
    if version not in _valid_entries(registry, home, name):
        raise NotFound(
            f"model {name} has no validly signed version {version!r} in this home's "
            "registry (see `garrison models list`)"
        )
    if placed_folder(registry, home, name, version) is None:
        raise Conflict(f"model {name} {version} was never placed in a folder; nothing to load")
    state, last = _checked_state(registry, home, name)
    held, wanted = state.stage_of(version), BEFORE[stage]
    if held != wanted:
        now = f"in {held}" if held else "not staged"
        need = f"in {wanted}" if wanted else "not staged"
        raise Conflict(
            f"cannot promote {name} {version} to {stage}: it is {now}, and moves go "
            f"shadow -> canary -> production (it must be {need} first)"
        )
    return _append(conn, home, last, name, version, "promote", stage,
                   state.stages.get(stage, ""), actor)  # fmt: skip


def rollback(home: Path, name: str, actor: str) -> Move:
    """Put the previous production version of ``name`` back in production."""
    with HomeRegistry.open(home) as registry:
        assert registry is not None  # noqa: S101 - open(create=True) yields a registry
        registry.db.ensure(DDL)
        with registry.db.transaction() as conn:
            state, last = _checked_state(registry, home, name)
            target = state.rollback_target
            if target is None or state.production is None:
                raise Conflict(f"model {name} has no home production version to roll back")
            return _append(conn, home, last, name, target, "rollback", "production",
                           state.production, actor)  # fmt: skip


def _checked_state(registry: HomeRegistry, home: Path, name: str) -> tuple[StageState, Move | None]:
    moves = [m for m in read_moves(registry) if m.name == name]
    broken = move_problems(moves, trusted_keys(home))
    if broken:
        raise Conflict(f"model {name}: {broken[0].detail}; refusing to move it (see verify)")
    return replay(moves).get(name, StageState(name)), (moves[-1] if moves else None)


def _append(conn: Any, home: Path, last: Move | None, name: str, version: str,
            action: str, stage: str, replaced: str, actor: str) -> Move:  # fmt: skip
    key = signing_key(home)
    draft = Move(0, name, version, action, stage, replaced, now_ms(), actor, chain_of(last),
                 key.id, "")  # fmt: skip
    signature = base64.b64encode(key.sign(draft.payload())).decode("ascii")
    cursor = conn.execute(
        "INSERT INTO model_stages (name, version, action, stage, replaced, moved, actor, "
        "chain, signer, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (name, version, action, stage, replaced, draft.moved, actor, draft.chain, key.id,
         signature),
    )  # fmt: skip
    return Move(int(cursor.lastrowid or 0), name, version, action, stage, replaced, draft.moved,
                actor, draft.chain, key.id, signature)  # fmt: skip


def placed_folder(registry: HomeRegistry, home: Path, name: str, version: str) -> Path | None:
    """The folder the newest validly signed placement of ``name`` ``version`` names."""
    trusted = trusted_keys(home)
    found = [
        p
        for p in registry.placements()
        if p.name == name and p.version == version and signed_by_trusted(p, trusted)
    ]
    return Path(found[-1].location) if found else None
