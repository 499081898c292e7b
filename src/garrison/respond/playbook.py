"""Playbooks as data: a trigger on findings or incidents and the steps to take.

A playbook is one YAML document, read only through ``core.safeyaml`` (size, depth and
alias limits; no tags) as a node tree, so every refusal names its line. ``parse`` turns
the tree into frozen dataclasses or raises ``Invalid`` with the line and the reason;
``playbooks.check`` applies it to a folder. Nothing here acts: the checks make sure that
whatever acts later acts on a playbook whose every gated step asks a human first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from garrison.core.findings import SEVERITY_NAMES
from garrison.core.incidents import RISK_BANDS
from garrison.respond import nodes
from garrison.respond.actions import ACTIONS
from garrison.respond.nodes import Invalid
from garrison.respond.render import NAMES, unknown_names
from garrison.triage.enrich.inventory import CRITICALITIES

Mode = Literal["shadow", "dry-run", "live"]
MODES = ("shadow", "dry-run", "live")
SUBJECTS = ("finding", "incident")
#: Finding severities and incident risk bands share one vocabulary in a trigger.
SEVERITIES = tuple(dict.fromkeys([*SEVERITY_NAMES.values(), *(n for _, n in RISK_BANDS)]))
ENTITY_TYPES = ("user", "host", "ip", "domain", "hash", "process")
OUTCOMES = ("succeeded", "failed")
FALLBACKS = ("reject", "escalate")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_TECHNIQUE = re.compile(r"^T[0-9]{4}(\.[0-9]{3})?$")


@dataclass(frozen=True, slots=True)
class Trigger:
    """Which findings or incidents start the playbook; every condition given must hold."""

    on: Literal["finding", "incident"]
    analytic: tuple[str, ...] = ()
    technique: tuple[str, ...] = ()  # prefixes: T1059 matches T1059.001
    min_risk: int | None = None
    severity: tuple[str, ...] = ()
    entity_type: tuple[str, ...] = ()
    asset_criticality: tuple[str, ...] = ()
    #: True: an intel feed must list one of the subject's entities (or an intel analytic
    #: must be among its findings); False: none may. None: no condition.
    intel: bool | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    required: bool
    quorum: int = 1
    expires: int | None = None  # seconds
    fallback: Literal["reject", "escalate"] = "reject"


@dataclass(frozen=True, slots=True)
class When:
    """Run the step only when an earlier step ended so."""

    step: str
    outcome: Literal["succeeded", "failed"] = "succeeded"


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    action: str
    params: tuple[tuple[str, Any], ...] = ()
    when: When | None = None
    approval: Approval | None = None


@dataclass(frozen=True, slots=True)
class Playbook:
    id: str
    name: str
    description: str
    trigger: Trigger
    steps: tuple[Step, ...]
    mode: Mode = "shadow"
    source: str = ""
    line: int = 1  # of its id


def _ident(node: yaml.Node, what: str) -> str:
    value = nodes.text(node, what)
    if not _ID.match(value):
        raise Invalid(node, f"{what} must be lower-case letters, digits, '.', '_' or '-'")
    return value


def _trigger(node: yaml.Node) -> Trigger:
    keys = nodes.mapping(
        node,
        "trigger",
        ["on"],
        [
            "analytic",
            "technique",
            "min_risk",
            "severity",
            "entity_type",
            "asset_criticality",
            "intel",
        ],
    )

    def words(key: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if key not in keys:
            return ()
        out = []
        for item in nodes.strings(keys[key], f"trigger.{key}"):
            out.append(
                nodes.choice(item, f"trigger.{key}", allowed)
                if allowed
                else nodes.text(item, f"trigger.{key}")
            )
        return tuple(out)

    techniques = words("technique")
    items = nodes.strings(keys["technique"], "trigger.technique") if techniques else ()
    for item, tid in zip(items, techniques, strict=True):
        if not _TECHNIQUE.match(tid):
            raise Invalid(item, f"trigger.technique {tid!r} is not an ATT&CK id such as T1059")
    on = nodes.choice(keys["on"], "trigger.on", SUBJECTS)
    min_risk = (
        nodes.integer(keys["min_risk"], "trigger.min_risk", 0, 100) if "min_risk" in keys else None
    )
    return Trigger(
        on=on,  # type: ignore[arg-type]
        analytic=words("analytic"),
        technique=techniques,
        min_risk=min_risk,
        severity=words("severity", SEVERITIES),
        entity_type=words("entity_type", ENTITY_TYPES),
        asset_criticality=words("asset_criticality", CRITICALITIES),
        intel=nodes.boolean(keys["intel"], "trigger.intel") if "intel" in keys else None,
    )


def _approval(node: yaml.Node, what: str) -> Approval:
    keys = nodes.mapping(node, what, ["required"], ["quorum", "expires", "fallback"])
    return Approval(
        required=nodes.boolean(keys["required"], f"{what}.required"),
        quorum=nodes.integer(keys["quorum"], f"{what}.quorum", 1, 20) if "quorum" in keys else 1,
        expires=nodes.duration(keys["expires"], f"{what}.expires") if "expires" in keys else None,
        fallback=nodes.choice(keys["fallback"], f"{what}.fallback", FALLBACKS)  # type: ignore[arg-type]
        if "fallback" in keys
        else "reject",
    )


def _when(node: yaml.Node, what: str, earlier: list[str], every: set[str]) -> When:
    keys = nodes.mapping(node, what, ["step"], ["outcome"])
    step = nodes.text(keys["step"], f"{what}.step")
    if step not in every:
        raise Invalid(keys["step"], f"{what}.step {step!r} is not a step of this playbook")
    if step not in earlier:
        raise Invalid(keys["step"], f"{what}.step {step!r} is a later step: it has not run yet")
    outcome = (
        nodes.choice(keys["outcome"], f"{what}.outcome", OUTCOMES)
        if "outcome" in keys
        else "succeeded"
    )
    return When(step, outcome)  # type: ignore[arg-type]


def _params(
    node: yaml.Node | None, at: yaml.Node, what: str, action: str
) -> tuple[tuple[str, Any], ...]:
    spec = ACTIONS.get(action)
    if node is None:
        keys: dict[str, yaml.Node] = {}
    else:
        keys = nodes.mapping(node, what, (), [*spec.required, *spec.optional])
    for name in spec.required:
        if name not in keys:
            raise Invalid(node or at, f"{what}: action {action} needs parameter {name!r}")
    out = []
    for name, node_value in keys.items():
        value = nodes.value(node_value, f"{what}.{name}")
        unknown = unknown_names(value)
        if unknown:
            raise Invalid(
                node_value,
                f"{what}.{name}: unknown placeholder {{{{{unknown[0]}}}}} "
                f"(known: {', '.join(NAMES)})",
            )
        out.append((name, value))
    return tuple(out)


def _step(node: yaml.Node, index: int, earlier: list[str], every: set[str]) -> Step:
    what = f"steps[{index}]"
    keys = nodes.mapping(node, what, ["id", "action"], ["params", "when", "approval"])
    step_id = _ident(keys["id"], f"{what}.id")
    if step_id in earlier:
        raise Invalid(keys["id"], f"duplicate step id {step_id!r}")
    what = f"step {step_id}"
    action = nodes.text(keys["action"], f"{what}.action")
    if action not in ACTIONS:
        raise Invalid(
            keys["action"],
            f"{what}: unknown action {action!r} (known: {', '.join(ACTIONS.names())})",
        )
    params = _params(keys.get("params"), node, f"{what}.params", action)
    when = _when(keys["when"], f"{what}.when", earlier, every) if "when" in keys else None
    approval = _approval(keys["approval"], f"{what}.approval") if "approval" in keys else None
    spec = ACTIONS.get(action)
    if spec.needs_approval and not (approval and approval.required):
        raise Invalid(
            keys.get("approval", node),
            f"{what}: action {action} is {spec.impact} and needs approval.required: true",
        )
    return Step(step_id, action, params, when, approval)


def parse(root: yaml.Node, source: str = "") -> Playbook:
    """The playbook of a composed document, or ``Invalid`` with the first problem's line."""
    keys = nodes.mapping(
        root, "playbook", ["id", "name", "trigger", "steps"], ["description", "mode"]
    )
    playbook_id = _ident(keys["id"], "id")
    name = nodes.text(keys["name"], "name")
    trigger = _trigger(keys["trigger"])
    steps_node = keys["steps"]
    if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
        raise Invalid(steps_node, "steps must be a non-empty list")
    every = {
        str(value.value)
        for item in steps_node.value
        if isinstance(item, yaml.MappingNode)
        for key, value in item.value
        if isinstance(key, yaml.ScalarNode)
        and key.value == "id"
        and isinstance(value, yaml.ScalarNode)
    }
    steps: list[Step] = []
    for index, item in enumerate(steps_node.value):
        steps.append(_step(item, index, [s.id for s in steps], every))
    return Playbook(
        id=playbook_id,
        name=name,
        description=nodes.text(keys["description"], "description") if "description" in keys else "",
        trigger=trigger,
        steps=tuple(steps),
        mode=nodes.choice(keys["mode"], "mode", MODES) if "mode" in keys else "shadow",  # type: ignore[arg-type]
        source=source,
        line=nodes.line_of(keys["id"]),
    )
