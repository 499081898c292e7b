"""Ground truth for KPIs: which records are malicious, since when, about which entities.

Two shapes are read:

- the demo's ``labels.json`` (``garrison demo``): ``stages[]`` with ``name``, ``start`` (ms),
  ``records`` (file relative to the labels' folder -> line numbers) and ``entities``
  (``users``/``hosts``/``ips``/``domains`` lists);
- a plain mapping for corpora whose files are attacks through and through (such as
  EVTX-ATTACK-SAMPLES): ``{"malicious_files": [paths], "entities": {...}}``, optionally with
  ``"stages"`` as above.

A record matches by its resolved path, else by a path suffix (a hunt may have been given
relative paths from another folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from garrison.core.entities import EntityKind, normalize_entity
from garrison.core.errors import InputError

_KINDS: dict[str, EntityKind] = {"users": "user", "hosts": "host", "ips": "ip", "domains": "domain"}


@dataclass(slots=True)
class LabelSet:
    #: (relative path, line/record id) -> stage name
    records: dict[tuple[str, int], str] = field(default_factory=dict)
    #: files where every record is malicious -> stage name
    files: dict[str, str] = field(default_factory=dict)
    stage_start: dict[str, int] = field(default_factory=dict)
    stage_records: dict[str, int] = field(default_factory=dict)
    #: entity key -> stages it took part in
    entities: dict[str, list[str]] = field(default_factory=dict)
    folder: Path = Path()

    def _rel(self, source_path: str) -> str | None:
        path = Path(source_path)
        try:
            return path.resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            pass
        text = path.as_posix()
        for rel in {r for r, _ in self.records} | set(self.files):
            if text.endswith("/" + rel) or text == rel:
                return rel
        return None

    def stage_of(self, evidences: list[tuple[str, int]]) -> str | None:
        """The stage of the first labelled evidence, or None when no evidence is malicious."""
        cache: dict[str, str | None] = {}
        for path, rid in evidences:
            if path not in cache:
                cache[path] = self._rel(path)
            rel = cache[path]
            if rel is None:
                continue
            if rel in self.files:
                return self.files[rel]
            stage = self.records.get((rel, rid))
            if stage is not None:
                return stage
        return None

    @property
    def total_records(self) -> int:
        return sum(self.stage_records.values())


def _entities(block: Any, stage: str, into: dict[str, list[str]]) -> None:
    if not isinstance(block, dict):
        return
    for key, kind in _KINDS.items():
        for value in block.get(key) or []:
            ent = normalize_entity(cast(EntityKind, kind), value)
            if ent is not None:
                into.setdefault(ent.key(), [])
                if stage not in into[ent.key()]:
                    into[ent.key()].append(stage)


def load_labels(path: Path | str) -> LabelSet:
    """Read a labels file (or the ``labels.json`` inside a folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "labels.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"labels file not found: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"labels {path}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"labels {path}: expected a JSON object")
    labels = LabelSet(folder=path.parent)
    for stage in data.get("stages") or []:
        if not isinstance(stage, dict) or not stage.get("name"):
            raise InputError(f"labels {path}: every stage needs a name")
        name = str(stage["name"])
        if stage.get("start") is not None:
            labels.stage_start[name] = int(stage["start"])
        count = 0
        for rel, lines in (stage.get("records") or {}).items():
            for line in lines:
                labels.records[(str(rel), int(line))] = name
                count += 1
        labels.stage_records[name] = count
        _entities(stage.get("entities"), name, labels.entities)
    for i, item in enumerate(data.get("malicious_files") or []):
        entry = item if isinstance(item, dict) else {"path": item}
        rel = str(entry.get("path", ""))
        name = str(entry.get("stage") or entry.get("tactic") or f"file-{i}")
        labels.files[rel] = name
        labels.stage_records.setdefault(name, 0)
        labels.stage_records[name] += int(entry.get("records", 1))
        if entry.get("start") is not None:
            labels.stage_start.setdefault(name, int(entry["start"]))
    if "malicious_files" in data:
        _entities(data.get("entities"), "labelled", labels.entities)
    if not labels.records and not labels.files:
        raise InputError(f"labels {path}: names no malicious record or file")
    return labels
