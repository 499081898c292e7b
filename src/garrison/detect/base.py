"""The detector contract every detector (Sigma, intel, ML) follows.

A detector sees the run's events batch by batch (``observe``) and may hold state for
aggregate analytics (beaconing, brute force) which it reports in ``finish``. Factories get a
``DetectorContext`` and return ``None`` when they have nothing to do (no rules given), so the
pipeline runs with whatever detectors apply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from garrison.core.events import Event
from garrison.core.findings import Finding
from garrison.core.plugins import Registry

if TYPE_CHECKING:  # annotations only: `garrison score` must not load pyarrow and duckdb
    from garrison.store.lake import EventStore
    from garrison.store.state import StateDB


@dataclass(slots=True)
class DetectorContext:
    """What a detector factory may use. ``home`` holds baselines and caches between runs."""

    home: Path
    state: StateDB
    store: EventStore
    rules_dirs: list[Path] = field(default_factory=list)
    intel_files: list[Path] = field(default_factory=list)
    #: The detector's options: its typed options dataclass, checked when the hunt started
    #: (``garrison.detect.options``), or a plain table that ``options_of`` checks.
    options: Any = field(default_factory=dict)
    #: Problems found while loading (rule name -> reason); reported in summary.json.
    load_errors: dict[str, str] = field(default_factory=dict)


class Detector(ABC):
    #: Stable id (the analytic uid prefix): "sigma", "ml.dga", "ml.beacon", ...
    id: str = ""
    name: str = ""

    @abstractmethod
    def observe(self, events: Sequence[Event]) -> list[Finding]:
        """Findings from one batch. Must not raise on any event content."""

    def finish(self) -> list[Finding]:
        """Findings that need the whole run (aggregates); called once at the end."""
        return []

    def stats(self) -> dict[str, Any]:
        """Figures for summary.json (rules loaded, rules failed ...)."""
        return {}


DetectorFactory = Callable[[DetectorContext], Detector | None]

DETECTORS: Registry[DetectorFactory] = Registry("detector")
