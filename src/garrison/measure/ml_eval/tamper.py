"""The tamper evaluation of the model registry (issue 13's "tamper suite").

A lab holds a byte-for-byte copy of the shipped models folder (still release-signed) and
of the lookalike folder (a second signed folder, for signatures taken from elsewhere), and
a home with two real, signed DGA versions, v1 then v2, each promoted to production (v1 is
the rollback target). Each trial tampers with the lab in one way, loads the artefact the
tamper touched through the loader's own check (``gate.read_verified``, then skops with the
model's allowlist, or JSON), records whether the load was refused, and restores the lab.
Clean loads, interleaved with the trials, must all succeed: a refusal there is a false one.

Kinds: ``bit-flip`` (one random bit of a random file: model, card, calibration, manifest,
signature, home model files), ``card-edit``, ``metadata-edit`` (manifest fields, registry
rows), ``file-added``, ``file-removed``, ``file-renamed``, ``wrong-key`` (signed with a key
that is not the release key or not trusted by the home), ``foreign-signature`` (a signature
taken from another folder, entry or move) and ``downgrade`` (an older, validly signed
version put back, loaded, or pointed to by a forged or edited stage move).

Out of scope, by design (see the README): whoever holds the release key or the home's
signing key, a complete older signed release installed in place of the package, and the
deletion of the newest stage moves by someone who can write the database (the audit log
shows those).
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from garrison.core.errors import InputError
from garrison.govern.registry.artifacts import artifact_name, primary_file
from garrison.govern.registry.gate import production_model, read_verified
from garrison.govern.registry.manifest import load_manifest, package_folder, shipped_folder
from garrison.govern.registry.release import SIGNATURE, sign_folder
from garrison.govern.registry.stages import promote
from garrison.measure.ml_eval.tamper_models import registered_version

KINDS = (
    "bit-flip",
    "card-edit",
    "metadata-edit",
    "file-added",
    "file-removed",
    "file-renamed",
    "wrong-key",
    "foreign-signature",
    "downgrade",
)
TEXT = ("dga", "url", "email")
PRODUCTION = "home:production"


@dataclass(slots=True)
class Tally:
    trials: int = 0
    refused: int = 0
    missed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TamperReport:
    kinds: dict[str, Tally]
    clean: int
    false_refusals: list[str]
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "kinds": {
                k: {"trials": t.trials, "refused": t.refused, "missed": t.missed[:5]}
                for k, t in self.kinds.items()
            },
            "tampered": sum(t.trials for t in self.kinds.values()),
            "refused": sum(t.refused for t in self.kinds.values()),
            "clean_loads": self.clean,
            "false_refusals": len(self.false_refusals),
            "false_refusal_examples": self.false_refusals[:5],
            "seconds": round(self.seconds, 1),
        }

    @property
    def ok(self) -> bool:
        return not self.false_refusals and all(t.refused == t.trials for t in self.kinds.values())


class Lab:
    """The tampered world, restorable to its pristine bytes after every trial."""

    def __init__(self, root: Path) -> None:
        self.shipped = Path(shutil.copytree(shipped_folder(), root / "shipped" / "models"))
        lookalike = package_folder("garrison.content") / "lookalike"
        self.other = Path(shutil.copytree(lookalike, root / "shipped" / "lookalike"))
        self.home = root / "home"
        self.v1 = registered_version(self.home, self.home / "models" / "v1", "dga-v1", 1).parent
        self.v2 = registered_version(self.home, self.home / "models" / "v2", "dga-v2", 2).parent
        for version in ("dga-v1", "dga-v2"):
            for stage in ("shadow", "canary", "production"):
                promote(self.home, "dga", version, stage, "tamper-eval")
        self.db = self.home / "state.db"
        self._pristine = {
            p: p.read_bytes()
            for folder in (self.shipped, self.other, self.v1, self.v2)
            for p in folder.iterdir()
        }
        self._pristine[self.db] = self.db.read_bytes()
        self._touched: set[Path] = set()
        self._loaded: dict[str, object] = {}

    # --- tampering helpers (each remembers what it touched) ------------------------------

    def write(self, path: Path, data: bytes) -> None:
        self._touched.add(path)
        path.write_bytes(data)

    def remove(self, path: Path) -> None:
        self._touched.add(path)
        path.unlink()

    def rename(self, source: Path, target: Path) -> None:
        self._touched.update((source, target))
        source.replace(target)

    def copy(self, source: Path, target: Path) -> None:
        self.write(target, source.read_bytes())

    def edit_json(self, path: Path, change: Callable[[dict[str, Any]], None]) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        self.write(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    def sql(self, *statements: str, params: tuple[object, ...] = ()) -> None:
        """Run statements on the home's database as an attacker would (triggers dropped)."""
        self._touched.add(self.db)
        conn = sqlite3.connect(self.db)
        try:
            for trigger in ("registry", "placements", "stages"):
                for what in ("update", "delete"):
                    conn.execute(f"DROP TRIGGER IF EXISTS model_{trigger}_no_{what}")
            for statement in statements:
                conn.execute(statement, params if "?" in statement else ())
            conn.commit()
        finally:
            conn.close()

    def row(self, sql: str) -> tuple[Any, ...]:
        conn = sqlite3.connect(self.db)
        try:
            found: tuple[Any, ...] = conn.execute(sql).fetchone()
        finally:
            conn.close()
        return found

    def refresh_manifest(self) -> None:
        from garrison.govern.registry.manifest import write_manifest

        self._touched.add(self.shipped / "MANIFEST.json")
        write_manifest(self.shipped)

    def resign(self, private: Ed25519PrivateKey) -> None:
        self._touched.add(self.shipped / SIGNATURE)
        sign_folder(self.shipped, private)

    def restore(self) -> None:
        for path in self._touched:
            if path in self._pristine:
                path.write_bytes(self._pristine[path])
            elif path.exists():
                path.unlink()
        for suffix in ("-wal", "-shm"):
            self.db.with_name(self.db.name + suffix).unlink(missing_ok=True)
        self._touched.clear()

    # --- loading through the real check ------------------------------------------------

    def path_of(self, target: str) -> Path:
        where, name = target.split(":", 1)
        if target == PRODUCTION:
            found = production_model("dga", self.home)
            if found is None:
                raise InputError("no production version: the registry points nowhere")
            return found
        if where == "home":
            return (self.v1 if name == "v1" else self.v2) / "dga.skops"
        listed = load_manifest(shipped_folder())  # the pristine names, not the lab's
        files = listed[name].files if name in listed else {f"{name}.skops": ""}
        return self.shipped / primary_file(name, files)

    def load(self, target: str) -> str | None:
        """None when ``target`` loads; the refusal's message otherwise."""
        from garrison.detect.ml.artifacts import skops_state
        from garrison.detect.ml.textmodels import allowlist

        try:
            path = self.path_of(target)
            data, digest = read_verified(path, self.home, shipped=[self.shipped, self.other])
            if digest not in self._loaded:
                name = artifact_name(path.name)
                self._loaded[digest] = (
                    skops_state(data, str(path), name, allowlist(name))
                    if path.suffix == ".skops"
                    else json.loads(data)
                )
        except InputError as exc:
            return str(exc)
        return None


def _shipped_files(lab: Lab) -> list[Path]:
    return sorted(p for p in lab.shipped.iterdir() if p.name != "release-key.pub")


def bit_flip(lab: Lab, rng: random.Random) -> str:
    files = [*_shipped_files(lab), lab.v2 / "dga.skops", lab.v2 / "dga.card.json"]
    path = rng.choice(files)
    data = bytearray(path.read_bytes())
    bit = rng.randrange(len(data) * 8)
    data[bit // 8] ^= 1 << (bit % 8)
    lab.write(path, bytes(data))
    if path.parent == lab.v2:
        return PRODUCTION
    name = artifact_name(path.name)
    if path.name.startswith("MANIFEST"):
        name = rng.choice([*TEXT, "beacon-calibration", "ueba-calibration"])
    return f"shipped:{name}"


def _threshold(card: dict[str, Any]) -> None:
    card["threshold"] = 0.01


Tamper = Callable[[Lab, random.Random], str]


def _card_edit(lab: Lab, rng: random.Random, variant: int) -> str:
    name = rng.choice(TEXT)
    if variant == 0:  # the card alone (the threshold a detector applies)
        lab.edit_json(lab.shipped / f"{name}.card.json", _threshold)
    elif variant == 1:  # model, card and MANIFEST.json edited together (issue 13)
        lab.edit_json(lab.shipped / f"{name}.card.json", _threshold)
        skops = lab.shipped / f"{name}.skops"
        lab.write(skops, skops.read_bytes() + b"\0")
        lab.refresh_manifest()
    elif variant == 2:  # a calibration with the manifest refreshed
        lab.edit_json(lab.shipped / "beacon.calibration.json", lambda c: c.update(edited=True))
        lab.refresh_manifest()
        return "shipped:beacon-calibration"
    else:  # the home production version's card
        lab.edit_json(lab.v2 / "dga.card.json", _threshold)
        return PRODUCTION
    return f"shipped:{name}"


def _metadata_edit(lab: Lab, rng: random.Random, variant: int) -> str:
    name = rng.choice(TEXT)
    if variant == 0:  # the manifest's version of a model
        manifest = lab.shipped / "MANIFEST.json"
        lab.edit_json(manifest, lambda m: m["artifacts"][name].update(version=f"{name}-9"))
        return f"shipped:{name}"
    if variant == 1:  # the registry entry rebound to an edited card
        lab.edit_json(lab.v2 / "dga.card.json", _threshold)
        files = json.loads(lab.row("SELECT files FROM model_registry WHERE version='dga-v2'")[0])
        files["dga.card.json"] = _sha256(lab.v2 / "dga.card.json")
        lab.sql(
            "UPDATE model_registry SET files = ? WHERE version = 'dga-v2'",
            params=(json.dumps(files, sort_keys=True),),
        )
    elif variant == 2:  # the placement of v1 moved to v2's folder
        lab.copy(lab.v1 / "dga.skops", lab.v2 / "dga.skops")
        lab.copy(lab.v1 / "dga.card.json", lab.v2 / "dga.card.json")
        lab.sql(
            "UPDATE model_placements SET location = ? WHERE version = 'dga-v1'",
            params=(str(lab.v2.resolve()),),
        )
        lab.sql("UPDATE model_placements SET placed = placed + 1000000 WHERE version='dga-v1'")
    else:  # the actor of a stage move
        lab.sql("UPDATE model_stages SET actor = 'someone-else' WHERE id = 6")
    return PRODUCTION


def _sha256(path: Path) -> str:
    from garrison.govern.registry.artifacts import sha256_file

    return sha256_file(path)


def _file_added(lab: Lab, rng: random.Random, variant: int) -> str:
    name = rng.choice(TEXT)
    if variant == 0:
        lab.copy(lab.shipped / f"{name}.skops", lab.shipped / f"{name}.skops.bak")
    elif variant == 1:
        lab.write(lab.shipped / f"{name}.extra.json", b'{"threshold": 0.01}\n')
    elif variant == 2:  # a new artefact dropped into the shipped folder, then loaded
        lab.copy(lab.shipped / f"{name}.skops", lab.shipped / "evil.skops")
        return "shipped:evil"
    else:
        lab.write(lab.v2 / "dga.override.json", b'{"threshold": 0.01}\n')
        return PRODUCTION
    return f"shipped:{name}"


def _file_removed(lab: Lab, rng: random.Random, variant: int) -> str:
    name = rng.choice(TEXT)
    if variant == 0:
        lab.remove(lab.shipped / f"{name}.card.json")
    elif variant == 1:
        lab.remove(lab.shipped / SIGNATURE)
    elif variant == 2:
        lab.remove(lab.shipped / "MANIFEST.json")
    else:
        lab.remove(lab.v2 / rng.choice(["dga.card.json", "dga.skops"]))
        return PRODUCTION
    return f"shipped:{name}"


def _file_renamed(lab: Lab, rng: random.Random, variant: int) -> str:
    name, other = rng.sample(TEXT, 2)
    if variant == 0:  # another model's file under this model's name
        lab.rename(lab.shipped / f"{other}.skops", lab.shipped / f"{name}.skops")
    elif variant == 1:
        lab.rename(lab.shipped / f"{name}.card.json", lab.shipped / f"{name}.card.json.old")
    elif variant == 2:
        lab.rename(lab.shipped / "beacon.calibration.json", lab.shipped / "ueba.calibration.json")
        return "shipped:ueba-calibration"
    else:
        lab.rename(lab.v2 / "dga.card.json", lab.v2 / "dga.card.old.json")
        return PRODUCTION
    return f"shipped:{name}"


def _wrong_key(lab: Lab, rng: random.Random, variant: int) -> str:
    from garrison.govern.registry.release import release_key_id

    name = rng.choice(TEXT)
    attacker = Ed25519PrivateKey.generate()
    if variant in (0, 1):
        lab.edit_json(lab.shipped / f"{name}.card.json", _threshold)
        lab.refresh_manifest()
        lab.resign(attacker)
        if variant == 1:  # and claims to be the release key (in canonical form)
            body = json.loads((lab.shipped / SIGNATURE).read_text())
            body["key"] = release_key_id()
            lab.write(
                lab.shipped / SIGNATURE,
                (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("ascii"),
            )
        return f"shipped:{name}"
    table = "model_registry" if variant == 2 else "model_stages"
    where = "version = 'dga-v2'" if variant == 2 else "id = 6"
    lab.sql(
        f"UPDATE {table} SET signer = 'ed25519:0123456789abcdef', signature = ? "  # noqa: S608 - fixed table and clause
        f"WHERE {where}",
        params=(_b64(attacker.sign(b"forged")),),
    )
    return PRODUCTION


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _foreign_signature(lab: Lab, rng: random.Random, variant: int) -> str:
    name = rng.choice(TEXT)
    if variant == 0:
        lab.copy(lab.other / SIGNATURE, lab.shipped / SIGNATURE)
        return f"shipped:{name}"
    if variant == 1:  # another folder's whole signed manifest
        lab.copy(lab.other / SIGNATURE, lab.shipped / SIGNATURE)
        lab.copy(lab.other / "MANIFEST.json", lab.shipped / "MANIFEST.json")
        return f"shipped:{name}"
    if variant == 2:  # v1's entry signature on v2's (edited) entry
        lab.edit_json(lab.v2 / "dga.card.json", _threshold)
        signature = lab.row("SELECT signature FROM model_registry WHERE version='dga-v1'")[0]
        files = json.loads(lab.row("SELECT files FROM model_registry WHERE version='dga-v2'")[0])
        files["dga.card.json"] = _sha256(lab.v2 / "dga.card.json")
        lab.sql(
            "UPDATE model_registry SET signature = ?, files = ? WHERE version = 'dga-v2'",
            params=(signature, json.dumps(files, sort_keys=True)),
        )
        return PRODUCTION
    signature = lab.row("SELECT signature FROM model_stages WHERE id = 3")[0]  # v1 -> production
    lab.sql(
        "UPDATE model_stages SET version = 'dga-v1', signature = ? WHERE id = 6",
        params=(signature,),
    )
    return PRODUCTION


def _downgrade(lab: Lab, rng: random.Random, variant: int) -> str:
    if variant == 0:  # v1's files copied over v2's folder
        lab.copy(lab.v1 / "dga.skops", lab.v2 / "dga.skops")
        lab.copy(lab.v1 / "dga.card.json", lab.v2 / "dga.card.json")
        return PRODUCTION
    if variant == 1:  # v1 loaded from its own (valid, signed) folder
        return "home:v1"
    if variant == 2:  # the pointer edited: the newest production move names v1
        lab.sql("UPDATE model_stages SET version = 'dga-v1' WHERE id = 6")
        return PRODUCTION
    if variant == 3:  # a forged move appended: "production is v1", signature copied
        row = lab.row("SELECT * FROM model_stages WHERE id = 3")
        lab.sql(
            "INSERT INTO model_stages (name, version, action, stage, replaced, moved, actor, "
            "chain, signer, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params=(*row[1:5], "dga-v2", row[6] + 10**7, *row[7:]),
        )
        return PRODUCTION
    # v2's moves removed from the middle of the chain, then v1 loaded
    lab.sql("DELETE FROM model_stages WHERE id IN (4, 5)")
    return rng.choice([PRODUCTION, "home:v1"])


VARIANTS = 4
TAMPERS: dict[str, Callable[[Lab, random.Random, int], str]] = {
    "card-edit": _card_edit,
    "metadata-edit": _metadata_edit,
    "file-added": _file_added,
    "file-removed": _file_removed,
    "file-renamed": _file_renamed,
    "wrong-key": _wrong_key,
    "foreign-signature": _foreign_signature,
    "downgrade": _downgrade,
}
CLEAN = (*(f"shipped:{n}" for n in (*TEXT, "beacon-calibration", "ueba-calibration")), PRODUCTION)


def run(root: Path, flips: int, rounds: int, clean: int, seed: int = 13) -> TamperReport:
    """``flips`` bit flips, every variant of every other kind ``rounds`` times (the
    downgrade kind has one more), and ``clean`` clean loads spread between the trials."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - reproducible trials, nothing secret
    lab = Lab(root)
    plan: list[tuple[str, Callable[[Lab, random.Random], str]]] = [
        ("bit-flip", bit_flip) for _ in range(flips)
    ]
    for kind, variant_of in TAMPERS.items():
        variants = VARIANTS + (1 if kind == "downgrade" else 0)
        for variant in range(variants):
            plan += [(kind, _bind(variant_of, variant)) for _ in range(rounds)]
    rng.shuffle(plan)
    tallies = {kind: Tally() for kind in KINDS}
    false: list[str] = []
    every = max(1, len(plan) // max(1, clean))
    done = 0
    for i, (kind, tamper) in enumerate(plan):
        target = tamper(lab, rng)
        refusal = lab.load(target)
        lab.restore()
        tally = tallies[kind]
        tally.trials += 1
        if refusal is None:
            tally.missed.append(f"{target} (trial {i})")
        else:
            tally.refused += 1
        if i % every == 0 and done < clean:
            done += _clean_load(lab, rng, false)
    while done < clean:
        done += _clean_load(lab, rng, false)
    return TamperReport(tallies, done, false, time.perf_counter() - started)


def _bind(tamper: Callable[[Lab, random.Random, int], str], variant: int) -> Tamper:
    return lambda lab, rng: tamper(lab, rng, variant)


def _clean_load(lab: Lab, rng: random.Random, false: list[str]) -> int:
    target = rng.choice(CLEAN)
    refusal = lab.load(target)
    if refusal is not None:
        false.append(f"{target}: {refusal}")
    return 1
