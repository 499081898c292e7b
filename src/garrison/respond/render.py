"""Step parameters name the subject with ``{{placeholders}}``, filled from a fixed list.

    ip: "{{entity}}"                  -> "203.0.113.7"
    reason: "incident {{incident.id}}" -> "incident inc-5f..."

No expression language: a placeholder is one name from ``NAMES``, checked when the playbook
is loaded (``unknown_names``) and filled when a step runs. The values are telemetry text
(attacker-controlled): they are made printable (``core.text.visible``) and left for each
action to validate (an ``ip`` must parse as an address, a ``host`` must be a host name)
before anything reaches a connector.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from garrison.core.text import visible
from garrison.respond.subjects import Subject

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")
#: The longest text one placeholder may put into a parameter.
MAX_VALUE = 512


class RenderError(ValueError):
    """A placeholder cannot be filled for this subject."""


def _entity(subject: Subject, kind: str | None) -> str:
    ent = subject.entity(kind)
    if ent is None:
        wanted = f"a {kind} entity" if kind else "an entity"
        raise RenderError(f"the {subject.kind} has no {wanted}")
    return ent.value


def _only(kind: str, value: Callable[[Subject], str]) -> Callable[[Subject, str | None], str]:
    def fill(subject: Subject, _entity_kind: str | None) -> str:
        if subject.kind != kind:
            raise RenderError(f"{{{{{kind}...}}}} is not available for a {subject.kind}")
        return value(subject)

    return fill


#: name -> fill(subject, the trigger's entity type)
NAMES: dict[str, Callable[[Subject, str | None], str]] = {
    "entity": lambda s, kind: _entity(s, kind),
    "entity.kind": lambda s, kind: (s.entity(kind) or _missing(s)).kind,
    "subject.uid": lambda s, _k: s.uid,
    "subject.kind": lambda s, _k: s.kind,
    "subject.title": lambda s, _k: s.title,
    "risk": lambda s, _k: str(s.risk),
    "criticality": lambda s, _k: s.criticality,
    "finding.uid": _only("finding", lambda s: s.uid),
    "finding.analytic": _only("finding", lambda s: s.analytics[0] if s.analytics else ""),
    "finding.title": _only("finding", lambda s: s.title),
    "incident.id": _only("incident", lambda s: s.uid),
    "incident.title": _only("incident", lambda s: s.title),
}


def _missing(subject: Subject) -> Any:
    raise RenderError(f"the {subject.kind} has no entity")


def unknown_names(value: Any) -> list[str]:
    """Placeholders in a parameter value (a text or a tuple of them) that ``NAMES`` lacks."""
    texts = value if isinstance(value, tuple) else (value,)
    return [
        name
        for text in texts
        if isinstance(text, str)
        for name in _PLACEHOLDER.findall(text)
        if name not in NAMES
    ]


def render_value(value: Any, subject: Subject, entity_kind: str | None) -> Any:
    if isinstance(value, tuple):
        return tuple(render_value(v, subject, entity_kind) for v in value)
    if not isinstance(value, str):
        return value

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in NAMES:
            raise RenderError(f"unknown placeholder {{{{{name}}}}}")
        return visible(NAMES[name](subject, entity_kind))[:MAX_VALUE]

    return _PLACEHOLDER.sub(fill, value)


def render_params(
    params: tuple[tuple[str, Any], ...], subject: Subject, entity_kind: str | None
) -> dict[str, Any]:
    """The step's parameters with every placeholder filled, or ``RenderError``."""
    return {name: render_value(value, subject, entity_kind) for name, value in params}
