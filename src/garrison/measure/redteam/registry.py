"""The attack registry: ``attacks.yaml`` read into entries, and a selection turned into attacks.

Attacks are data so that other kinds (extraction through the serving guard, poisoning of a
training set) are added by appending an entry; nothing here knows what an attack does.
A factory must live under ``garrison.measure.redteam``: the registry file ships with the
package, but an entry pointing anywhere else is refused rather than imported.
"""

from __future__ import annotations

import importlib
import importlib.resources
from dataclasses import dataclass
from typing import Any

from garrison.core import safeyaml
from garrison.core.errors import InputError, UsageError
from garrison.measure.redteam.contract import KINDS, Attack

PACKAGE = "garrison.measure.redteam"


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    kind: str
    factory: str
    source: str = ""
    about: str = ""

    def build(self) -> Attack:
        module, _, func = self.factory.partition(":")
        attack: Attack = getattr(importlib.import_module(module), func)()
        if attack.name != self.name or attack.kind != self.kind:
            raise InputError(f"attack {self.name}: factory built {attack.kind}/{attack.name}")
        return attack


def parse(text: str) -> tuple[Entry, ...]:
    """Entries of a registry text, checked; ``InputError`` names the first problem."""
    try:
        doc: Any = safeyaml.load(text)
    except safeyaml.YamlError as exc:
        raise InputError(f"attack registry: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("attacks"), list):
        raise InputError("attack registry: needs an 'attacks' list")
    out: list[Entry] = []
    for i, raw in enumerate(doc["attacks"]):
        out.append(_entry(i, raw, {e.name for e in out}))
    return tuple(out)


def _entry(i: int, raw: Any, seen: set[str]) -> Entry:
    if not isinstance(raw, dict):
        raise InputError(f"attack registry: entry {i} is not a mapping")
    fields = {k: raw.get(k) for k in ("name", "kind", "factory", "source", "about")}
    extra = sorted(set(raw) - set(fields))
    if extra or not all(isinstance(v, str) for v in fields.values() if v is not None):
        raise InputError(f"attack registry: entry {i}: unknown or non-text fields {extra}")
    name, kind, factory = fields["name"] or "", fields["kind"], fields["factory"] or ""
    if not name or name in seen:
        raise InputError(f"attack registry: entry {i}: missing or repeated name {name!r}")
    if kind not in KINDS:
        raise InputError(f"attack registry: {name}: kind must be one of {', '.join(KINDS)}")
    module, sep, func = factory.partition(":")
    if not sep or not func or not (module == PACKAGE or module.startswith(PACKAGE + ".")):
        raise InputError(f"attack registry: {name}: factory must be {PACKAGE}.MODULE:FUNCTION")
    return Entry(name, kind, factory, fields["source"] or "", fields["about"] or "")


def entries() -> tuple[Entry, ...]:
    """The shipped registry (``attacks.yaml`` beside this module)."""
    text = importlib.resources.files(PACKAGE).joinpath("attacks.yaml").read_text("utf-8")
    return parse(text)


def select(spec: str | None, registry: tuple[Entry, ...] | None = None) -> list[Entry]:
    """The entries named by ``--attacks``: comma-separated attack names and/or kinds
    (default: every attack), in registry order, each once."""
    table = entries() if registry is None else registry
    if not spec:
        return list(table)
    wanted = [w.strip() for w in spec.split(",") if w.strip()]
    names = {e.name for e in table}
    unknown = [w for w in wanted if w not in names and w not in KINDS]
    if unknown or not wanted:
        known = ", ".join([*KINDS, *sorted(names)])
        raise UsageError(f"--attacks: unknown {', '.join(unknown) or 'selection'} (known: {known})")
    chosen = [e for e in table if e.name in wanted or e.kind in wanted]
    if not chosen:
        raise UsageError(f"--attacks {spec}: no attack of that kind is registered yet")
    return chosen
