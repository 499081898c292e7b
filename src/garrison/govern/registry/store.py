"""The home's model registry: signed, append-only entries in ``HOME/state.db``.

Two tables, both append-only (SQLite triggers refuse UPDATE and DELETE):

- ``model_registry``: one row per (name, version) with ``{file: sha256}``, the card's
  digest, the creation time, the signer's key id and an Ed25519 signature over all of it.
  ``UNIQUE(name, version)`` plus the check in ``register`` make a version immutable:
  registering it again with other digests is refused; the same digests are a no-op.
- ``model_placements``: "version V of NAME was written to folder F at time T", signed too.
  The newest placement of a name in a folder is what that folder must hold, so putting an
  older, validly signed file back in its place (a downgrade) is refused by the loader and
  reported by ``verify`` — a signature alone would accept it.

The signatures make tampering with the database visible (a changed digest no longer
verifies); they cannot stop someone who can write the database from deleting rows, which
then shows up as files without an entry, i.e. a refusal to load, not a silent acceptance.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.core.timeutil import now_ms
from garrison.govern.registry.artifacts import Artifact, read_artifact
from garrison.govern.registry.keys import signing_key
from garrison.store.state import StateDB

FORMAT = "garrison-model-registry/1"
DB_FILE = "state.db"

DDL = """
CREATE TABLE IF NOT EXISTS model_registry (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    files TEXT NOT NULL,
    card_sha256 TEXT,
    created INTEGER NOT NULL,
    signer TEXT NOT NULL,
    signature TEXT NOT NULL,
    UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS model_placements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    location TEXT NOT NULL,
    placed INTEGER NOT NULL,
    signer TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS model_placements_location ON model_placements (location, name);
CREATE TRIGGER IF NOT EXISTS model_registry_no_update BEFORE UPDATE ON model_registry
BEGIN SELECT RAISE(ABORT, 'model registry entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS model_registry_no_delete BEFORE DELETE ON model_registry
BEGIN SELECT RAISE(ABORT, 'model registry entries are immutable'); END;
CREATE TRIGGER IF NOT EXISTS model_placements_no_update BEFORE UPDATE ON model_placements
BEGIN SELECT RAISE(ABORT, 'model placements are immutable'); END;
CREATE TRIGGER IF NOT EXISTS model_placements_no_delete BEFORE DELETE ON model_placements
BEGIN SELECT RAISE(ABORT, 'model placements are immutable'); END;
"""


class RegistryConflict(InputError):
    """A name and version already registered with other digests (versions are immutable)."""


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    name: str
    version: str
    files: dict[str, str]
    card_sha256: str | None
    created: int
    signer: str
    signature: str

    def payload(self) -> bytes:
        return canonical(
            {
                "format": FORMAT,
                "kind": "model-entry",
                "name": self.name,
                "version": self.version,
                "files": self.files,
                "card_sha256": self.card_sha256,
                "created": self.created,
                "signer": self.signer,
            }
        )


@dataclass(frozen=True, slots=True)
class Placement:
    id: int
    name: str
    version: str
    location: str
    placed: int
    signer: str
    signature: str

    def payload(self) -> bytes:
        return canonical(
            {
                "format": FORMAT,
                "kind": "model-placement",
                "name": self.name,
                "version": self.version,
                "location": self.location,
                "placed": self.placed,
                "signer": self.signer,
            }
        )


def decode_signature(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""


def location_of(folder: Path) -> str:
    return str(folder.resolve())


class HomeRegistry:
    """The registry tables of one home's ``state.db``."""

    def __init__(self, home: Path, db: StateDB) -> None:
        self.home = home
        self.db = db
        db.ensure(DDL)

    @classmethod
    @contextmanager
    def open(cls, home: Path, create: bool = True) -> Iterator[HomeRegistry | None]:
        """The registry of ``home``; None (without creating anything) when ``create`` is
        false and the home has no state database yet."""
        path = home / DB_FILE
        if not create and not path.is_file():
            yield None
            return
        db = StateDB(path)
        try:
            yield cls(home, db)
        finally:
            db.close()

    # --- reading ------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        rows = self.db.query(
            "SELECT id, name, version, files, card_sha256, created, signer, signature "
            "FROM model_registry ORDER BY id"
        )
        return [_entry(row) for row in rows]

    def placements(self) -> list[Placement]:
        rows = self.db.query(
            "SELECT id, name, version, location, placed, signer, signature "
            "FROM model_placements ORDER BY id"
        )
        return [
            Placement(
                int(str(r[0])),
                str(r[1]),
                str(r[2]),
                str(r[3]),
                int(str(r[4])),
                str(r[5]),
                str(r[6]),
            )
            for r in rows
        ]

    # --- writing ------------------------------------------------------------------------

    def register(self, folder: Path, name: str) -> tuple[Entry, bool]:
        """Sign and record the artefact ``name`` as written in ``folder``, and its placement
        there. Returns the entry and whether it is new. RegistryConflict when this name and
        version are already bound to other digests."""
        artifact = read_artifact(folder, name)
        key = signing_key(self.home)
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id, name, version, files, card_sha256, created, signer, signature "
                "FROM model_registry WHERE name = ? AND version = ?",
                (artifact.name, artifact.version),
            ).fetchone()
            if row is not None:
                entry, new = _entry(row), False
                if entry.files != artifact.files:
                    raise RegistryConflict(
                        f"model {name} version {artifact.version} is already registered with "
                        f"other digests ({_digests(entry.files)}; now {_digests(artifact.files)}):"
                        " registered versions are immutable, a new model needs a new version "
                        f"(the files in {folder} will not load)"
                    )
            else:
                entry, new = self._insert_entry(conn, artifact, key), True
            placed = Placement(0, name, artifact.version, location_of(folder), now_ms(), key.id, "")
            signature = base64.b64encode(key.sign(placed.payload())).decode("ascii")
            conn.execute(
                "INSERT INTO model_placements (name, version, location, placed, signer, "
                "signature) VALUES (?, ?, ?, ?, ?, ?)",
                (name, artifact.version, placed.location, placed.placed, key.id, signature),
            )
        return entry, new

    @staticmethod
    def _insert_entry(conn: Any, artifact: Artifact, key: Any) -> Entry:
        draft = Entry(
            0,
            artifact.name,
            artifact.version,
            dict(artifact.files),
            artifact.card_sha256,
            now_ms(),
            key.id,
            "",
        )
        signature = base64.b64encode(key.sign(draft.payload())).decode("ascii")
        cursor = conn.execute(
            "INSERT INTO model_registry (name, version, files, card_sha256, created, signer, "
            "signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                draft.name,
                draft.version,
                json.dumps(draft.files, sort_keys=True),
                draft.card_sha256,
                draft.created,
                draft.signer,
                signature,
            ),
        )
        return Entry(
            int(cursor.lastrowid),
            draft.name,
            draft.version,
            draft.files,
            draft.card_sha256,
            draft.created,
            draft.signer,
            signature,
        )


def register_model(home: Path, folder: Path, name: str) -> tuple[Entry, bool]:
    """Register the artefact ``name`` written in ``folder`` in the registry of ``home``."""
    with HomeRegistry.open(home) as registry:
        assert registry is not None  # noqa: S101 - narrows the type: open() yields a registry
        return registry.register(folder, name)


def _digests(files: dict[str, str]) -> str:
    return ", ".join(f"{k} {v[:12]}" for k, v in sorted(files.items()))


def _entry(row: tuple[object, ...]) -> Entry:
    try:
        files = json.loads(str(row[3]))
    except ValueError:
        files = {}
    if not isinstance(files, dict):
        files = {}
    return Entry(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        {str(k): str(v) for k, v in files.items()},
        None if row[4] is None else str(row[4]),
        int(str(row[5])),
        str(row[6]),
        str(row[7]),
    )
