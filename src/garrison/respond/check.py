"""``garrison playbooks check DIR``: load every playbook of a folder, report each problem
as file, line and reason; ids must be unique across the folder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from garrison.core import safeyaml
from garrison.core.errors import InputError
from garrison.respond.nodes import Invalid
from garrison.respond.playbook import Playbook, parse

SUFFIXES = (".yml", ".yaml")
#: The positions the YAML parser puts in its message ("..., line 3, column 5").
_AT_LINE = re.compile(r"\bline (\d+), column \d+")


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(slots=True)
class CheckReport:
    playbooks: list[Playbook] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load_file(path: Path) -> Playbook:
    """The playbook in ``path``, or ``Invalid`` (line 1 for unreadable or non-YAML text,
    whose parser message carries its own position)."""
    try:
        if path.stat().st_size > safeyaml.MAX_BYTES:
            raise Invalid(1, f"larger than {safeyaml.MAX_BYTES:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid(1, f"cannot read: {exc.strerror or exc}") from None
    return load_text(data, str(path))


def load_text(data: bytes | str, source: str = "") -> Playbook:
    """The playbook written in ``data`` (a run keeps the text it started with, so a resumed
    run follows the playbook as it was, not as it was edited since)."""
    try:
        root = safeyaml.compose(data)
    except safeyaml.YamlError as exc:
        found = _AT_LINE.findall(str(exc))  # the last mark is the problem's, the first its context
        raise Invalid(int(found[-1]) if found else 1, str(exc)) from None
    if root is None:
        raise Invalid(1, "empty file: a playbook is one YAML mapping")
    return parse(root, source)


def check_dir(folder: Path) -> CheckReport:
    """Every ``*.yml``/``*.yaml`` under ``folder`` parsed; a missing folder is an
    ``InputError`` (exit 2), an invalid playbook a ``Problem``."""
    if not folder.is_dir():
        raise InputError(f"no such playbook folder: {folder}")
    report = CheckReport()
    seen: dict[str, Playbook] = {}
    files = sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    for path in files:
        try:
            playbook = load_file(path)
        except Invalid as exc:
            report.problems.append(Problem(path, exc.line, exc.reason))
            continue
        first = seen.get(playbook.id)
        if first is not None:
            report.problems.append(
                Problem(
                    path,
                    playbook.line,
                    f"duplicate playbook id {playbook.id!r} (also in {first.source})",
                )
            )
            continue
        seen[playbook.id] = playbook
        report.playbooks.append(playbook)
    return report
