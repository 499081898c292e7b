"""Reading a composed YAML node tree with the line of every node, so each error a playbook
check reports names the line it is about (``safeyaml.compose`` builds the tree)."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import yaml

from garrison.core import safeyaml

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL = (_TAG + t for t in ("str", "int", "float", "bool"))
_DURATION = re.compile(r"^([1-9][0-9]{0,6})([smhd])\Z")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Invalid(Exception):
    """One reason a playbook cannot be used, at a 1-based line."""

    def __init__(self, at: yaml.Node | int, reason: str) -> None:
        super().__init__(reason)
        self.line = at if isinstance(at, int) else line_of(at)
        self.reason = reason


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _quote(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def mapping(
    node: yaml.Node, what: str, required: Collection[str], optional: Collection[str] = ()
) -> dict[str, yaml.Node]:
    """The keys of a mapping node -> value nodes; an unknown, repeated or missing key is an
    error. Keys are read as written, so YAML 1.1's ``on`` (a boolean) is the key ``on``."""
    if not isinstance(node, yaml.MappingNode):
        raise Invalid(node, f"{what} must be a mapping")
    known = [*required, *optional]
    out: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise Invalid(key, f"{what}: a key must be a plain word")
        name = str(key.value)
        if name in out:
            raise Invalid(key, f"{what}: duplicate key {_quote(name)}")
        if name not in known:
            raise Invalid(key, f"{what}: unknown key {_quote(name)} (known: {', '.join(known)})")
        out[name] = value
    for name in required:
        if name not in out:
            raise Invalid(node, f"{what}: missing required key {name!r}")
    return out


def text(node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != STR or not str(node.value).strip():
        raise Invalid(node, f"{what} must be a non-empty string")
    return str(node.value)


def choice(node: yaml.Node, what: str, allowed: Collection[str]) -> str:
    value = text(node, what)
    if value not in allowed:
        raise Invalid(node, f"{what} must be one of {', '.join(allowed)}, not {_quote(value)}")
    return value


def strings(node: yaml.Node, what: str) -> tuple[yaml.Node, ...]:
    """A string or a non-empty list of strings, as the nodes (for their lines)."""
    if isinstance(node, yaml.SequenceNode):
        if not node.value:
            raise Invalid(node, f"{what} must not be an empty list")
        for item in node.value:
            text(item, f"each item of {what}")
        return tuple(node.value)
    text(node, what)
    return (node,)


def integer(node: yaml.Node, what: str, low: int, high: int) -> int:
    if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
        raise Invalid(node, f"{what} must be a whole number")
    try:
        value = safeyaml.construct(node)
    except safeyaml.YamlError as exc:
        raise Invalid(node, f"{what}: {exc}") from None
    if not low <= value <= high:
        raise Invalid(node, f"{what} must be between {low} and {high}, not {value}")
    return int(value)


def boolean(node: yaml.Node, what: str) -> bool:
    if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
        raise Invalid(node, f"{what} must be true or false")
    return bool(safeyaml.construct(node))


def duration(node: yaml.Node, what: str) -> int:
    """Seconds of a duration written ``90s``, ``30m``, ``4h`` or ``2d``."""
    match = _DURATION.match(text(node, what)) if node.tag == STR else None
    if match is None:
        raise Invalid(node, f"{what} must be a duration such as 30m, 4h or 2d")
    return int(match.group(1)) * _UNIT[match.group(2)]


def value(node: yaml.Node, what: str) -> Any:
    """A parameter value: a string, number or boolean, or a list of them."""
    if isinstance(node, yaml.SequenceNode):
        return tuple(value(item, f"each item of {what}") for item in node.value)
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (STR, INT, FLOAT, BOOL):
        raise Invalid(node, f"{what} must be a string, number, boolean or a list of them")
    try:
        return safeyaml.construct(node)
    except safeyaml.YamlError as exc:
        raise Invalid(node, f"{what}: {exc}") from None
