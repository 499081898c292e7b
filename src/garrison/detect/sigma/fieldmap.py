"""Field maps (data/fieldmaps.yaml): the Sigma taxonomy name -> the field events carry.

A rule written for Sysmon process creation reads ``Image``; on Security 4688 the same thing
is ``NewProcessName``. The logsource data names a map per target; the compiler reads every
rule field through it. Unnamed fields pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from garrison.core import safeyaml


@dataclass(frozen=True, slots=True)
class FieldMap:
    name: str = ""
    mapping: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __call__(self, name: str) -> str:
        return self.mapping.get(name, name)


IDENTITY = FieldMap()


def load_fieldmaps(text: str | None = None) -> dict[str, FieldMap]:
    """Every map of the shipped data (or of ``text`` in the same YAML form)."""
    if text is None:
        from garrison.govern.registry.gate import read_shipped_text

        text = read_shipped_text("garrison.detect.sigma", "data/fieldmaps.yaml")
    data = safeyaml.load(text) or {}
    maps = {"": IDENTITY}
    for name, mapping in data.items():
        if not isinstance(mapping, dict):
            raise ValueError(f"fieldmaps: {name} must be a mapping")
        maps[name] = FieldMap(name, {str(k): str(v) for k, v in mapping.items()})
    return maps


@cache
def default_fieldmaps() -> dict[str, FieldMap]:
    return load_fieldmaps()
