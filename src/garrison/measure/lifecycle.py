"""Moving a home model through its stages (shadow -> canary -> production) and back.

``garrison models promote|rollback|stages`` (and the REST API) call this service. Every
move asks for ``models.promote`` (model-owner only: whoever trains a model is not enough
to put it in front of the detectors of a role that may not), is written as a signed stage
row (``garrison.govern.registry.stages``) and is audited with the acting identity, refused
moves included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from garrison.govern.audit import audited
from garrison.govern.registry.stages import SHIPPED, STAGES, Move, load_stages
from garrison.measure.training import ModelService

if TYPE_CHECKING:
    from garrison.measure.shadow import ShadowReport


@dataclass(frozen=True, slots=True)
class StageView:
    """One model's stages as the interfaces print them (``None``: empty stage)."""

    name: str
    stages: dict[str, str | None]
    rollback_target: str | None
    problems: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **{stage: self.stages[stage] for stage in STAGES},
            "rollback_target": self.rollback_target,
            "problems": self.problems,
        }


def _label(version: str | None) -> str | None:
    return "shipped" if version == SHIPPED else version


def _actor(self: LifecycleService, *_a: Any, **_k: Any) -> str | None:
    return self.actor


def _move(result: Move, *_a: Any, **_k: Any) -> dict[str, object]:
    return {
        "version": _label(result.version),
        "stage": result.stage,
        "replaced": _label(result.replaced) or None,
    }


class LifecycleService(ModelService):
    """Promote, roll back and list the stages of this home's models."""

    def _who(self) -> str:
        return self.actor or "unknown"

    @audited(
        "models.promote",
        actor=_actor,
        target=lambda self, name, *a, **k: name,
        details=lambda self, name, version, stage, *a, **k: {"version": version, "to": stage},
        result=_move,
    )
    def promote(self, name: str, version: str, stage: str) -> Move:
        """Move ``version`` of ``name`` one stage on (shadow, canary, production)."""
        from garrison.govern.registry.stages import promote

        self.authorize("models.promote")
        return promote(self.home, name, version, stage, self._who())

    @audited(
        "models.rollback",
        actor=_actor,
        target=lambda self, name, *a, **k: name,
        result=_move,
    )
    def rollback(self, name: str) -> Move:
        """Put the previous production version of ``name`` back in production."""
        from garrison.govern.registry.stages import rollback

        self.authorize("models.promote")
        return rollback(self.home, name, self._who())

    def stages(self, name: str | None = None) -> list[StageView]:
        """Every staged model (or only ``name``) with its stages and rollback target."""
        self.authorize("models.read")
        loaded = load_stages(self.home)
        names = sorted(loaded.states) if name is None else [name]
        out = []
        for each in names:
            state = loaded.state(each)
            out.append(
                StageView(
                    each,
                    {stage: state.stages.get(stage) for stage in STAGES},
                    _label(state.rollback_target),
                    [p.detail for p in loaded.broken(each)],
                )
            )
        return out

    def shadow_report(self, name: str, labels: Path | None = None) -> ShadowReport:
        """How the shadow version of ``name`` compares with production on what was scored
        (``garrison.measure.shadow``); ``labels``: labelled feedback for precision."""
        from garrison.measure.shadow import read_labels, report

        self.authorize("models.read")
        return report(self.home, name, read_labels(labels) if labels else None)
