"""Rule-noise controls and finding grouping, configured through the detector's options.

``garrison.toml``::

    [detectors.sigma]
    disabled = ["5f1a...", "Suspicious Whoami Execution"]   # rule ids, titles or file names
    group_window_seconds = 3600     # one finding per rule+host+file per hour (0: per event)
    group_by = ["host", "source"]   # any of host, source, user
    max_evidences = 20              # evidences listed per finding (count keeps the total)
    [detectors.sigma.suppress]      # per-rule window: keep the first alert, count the rest
    "Whoami Execution" = 86400
    [detectors.sigma.exceptions]    # per-rule exceptions: Sigma selections that veto a match
    "b16f8c04-..." = [{ "Image|endswith" = "\\\\backup_agent.exe" }]
    [detectors.sigma.placeholders]  # values for %name% placeholders (``|expand``)
    known_cdcs = ["dc01", "dc02"]

Grouping, and why: one finding per matching event floods analysts (a scanner can fire one
rule thousands of times), while one finding per rule hides that two hosts were hit. Findings
group per rule, host and input file within a window that opens at the group's first event;
later events fold into it (``count``, and the first ``max_evidences`` as evidences). The
raw per-rule match counts stay available in ``stats()`` for regression checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from garrison.core.events import Event
from garrison.core.findings import Evidence, Finding
from garrison.core.options import load_options, option
from garrison.detect.options import DETECTOR_OPTIONS

GROUP_KEYS = ("host", "source", "user")


def _as_lists(placeholders: dict[str, list[str] | str]) -> dict[str, list[str]]:
    """A placeholder's values: an array, or one value written alone."""
    return {k: v if isinstance(v, list) else [v] for k, v in placeholders.items()}


@DETECTOR_OPTIONS.register("sigma")
@dataclass(slots=True)
class SigmaOptions:
    """``[detectors.sigma]`` (see the module docstring); checked by ``load_options``."""

    disabled: list[str] = field(default_factory=list)
    exceptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    placeholders: dict[str, list[str]] = option(
        default_factory=dict, accepts=dict[str, list[str] | str], convert=_as_lists
    )
    group_window_seconds: int = option(3600, min=0)
    group_by: list[str] = option(default_factory=lambda: ["host", "source"], choices=GROUP_KEYS)
    max_evidences: int = option(20, min=0)
    suppress: dict[str, int] = option(default_factory=dict, min=0)
    #: Matches kept per correlation rule until the end of the run (bounded memory).
    correlation_max_matches: int = option(200_000, min=0)
    #: Use the cache under HOME/cache/sigma.
    cache: bool = True
    #: Use the native Aho-Corasick matcher when installed.
    native: bool = True
    #: After loading, move the (long-lived) rule objects out of the cyclic GC's sight with
    #: ``gc.freeze()``: full collections then skip ~700k objects. Process-wide, hence an option.
    freeze_gc: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SigmaOptions:
        return load_options(cls, data, where="detectors.sigma")


def rule_selected(
    selectors: Mapping[str, Any] | list[str], rule_id: str, title: str, path: str, name: str = ""
) -> Any:
    """The entry of ``selectors`` naming this rule (by id, title, name or file), if any."""
    keys = [k for k in (rule_id, title, name, path) if k]
    file_name = path.rsplit("/", 1)[-1] if path else ""
    if file_name:
        keys.append(file_name)
    if isinstance(selectors, Mapping):
        lowered = {str(k).lower(): v for k, v in selectors.items()}
        for k in keys:
            if k.lower() in lowered:
                return lowered[k.lower()]
        return None
    low = {s.lower() for s in selectors}
    return True if any(k.lower() in low for k in keys) else None


def event_host(event: Event) -> str:
    f = event.fields
    for name in ("Computer", "hostname", "host", "Hostname"):
        v = f.get(name)
        if isinstance(v, str) and v:
            return v.lower()
    dev = event.ocsf.get("device") if isinstance(event.ocsf, dict) else None
    if isinstance(dev, dict) and isinstance(dev.get("hostname"), str):
        return str(dev["hostname"]).lower()
    return ""


def event_user(event: Event) -> str:
    f = event.fields
    for name in ("User", "TargetUserName", "SubjectUserName", "user", "username"):
        v = f.get(name)
        if isinstance(v, str) and v:
            return v.lower()
    return ""


@dataclass(slots=True)
class _Group:
    finding: Finding
    start: int


class Grouper:
    """Folds matches of one rule into findings per (rule, host, file) and window."""

    def __init__(self, options: SigmaOptions) -> None:
        self.options = options
        self._groups: dict[tuple[str, ...], _Group] = {}
        self.folded = 0

    def window_ms(self, uid: str, title: str, path: str) -> int:
        override = rule_selected(self.options.suppress, uid, title, path)
        seconds = override if isinstance(override, int) else self.options.group_window_seconds
        return int(seconds) * 1000

    def add(
        self,
        uid: str,
        window_ms: int,
        event: Event,
        evidence: Evidence,
        make: Callable[[], Finding],
    ) -> Finding | None:
        """A new finding when this match opens a group; None when it folded into one."""
        if window_ms <= 0:
            return make()
        parts = [uid]
        for key in self.options.group_by:
            parts.append(
                event_host(event)
                if key == "host"
                else event.source_path
                if key == "source"
                else event_user(event)
            )
        gkey = tuple(parts)
        group = self._groups.get(gkey)
        if group is not None and abs(event.time - group.start) <= window_ms:
            finding = group.finding
            finding.count += 1
            if len(finding.evidences) < self.options.max_evidences:
                finding.evidences.append(evidence)
                for ent in _entities_of(event):
                    if ent not in finding.entities:
                        finding.entities.append(ent)
            if event.time and (not finding.time or event.time < finding.time):
                finding.time = event.time
            self.folded += 1
            return None
        finding = make()
        self._groups[gkey] = _Group(finding, event.time)
        return finding


def _entities_of(event: Event) -> list[Any]:
    from garrison.core.entities import entities_of

    try:
        return entities_of(event.ocsf)
    except Exception:  # entities are a convenience; a malformed event must not break a run
        return []
