"""pySigma objects -> Garrison's rule IR: plain JSON data, cached and compiled later.

pySigma parses the YAML, applies the modifiers (contains, base64offset, windash, wide, re
flags, cidr ...) and gives typed values; this module turns that parsed tree into a small,
JSON-serialisable intermediate representation so that a cached rule never needs pySigma
(nor pickle) again. The IR keeps named detections apart from the condition, so a finding can
say which selection matched.

IR nodes (lists):
  ["and", [node...]] | ["or", [node...]] | ["not", node] | ["ref", name]
  ["leaf", field | None, "or" | "and", negated, [value...]]
IR values (lists):
  ["s", parts, cased]   parts: str literal | 0 (``*``) | 1 (``?``) | ["p", name] (placeholder)
  ["re", pattern, flags]  flags: a subset of "ims"
  ["cidr", network] | ["num", n] | ["bool", b] | ["null"] | ["exists", b]
  ["cmp", op, n]  op: lt lte gt gte neq
  ["fref", field, startswith, endswith] | ["exp", [value...]] | ["ts", part, n]
"""

from __future__ import annotations

from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionIdentifier,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionSelector,
)
from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaRuleReference,
)
from sigma.filters import SigmaFilter
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaDetections, SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

#: Bump when the IR changes: cached entries of another version are ignored.
IR_VERSION = 3

Node = list[Any]
Value = list[Any]

_CMP = {
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
    CompareOperators.NEQ: "neq",
}
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


class ConversionError(ValueError):
    """A rule uses something the engine cannot evaluate; the message says what."""


def string_parts(value: SigmaString) -> list[Any]:
    parts: list[Any] = []
    for part in value.s:
        if isinstance(part, str):
            if parts and isinstance(parts[-1], str):
                parts[-1] += part
            else:
                parts.append(part)
        elif part is SpecialChars.WILDCARD_MULTI:
            parts.append(0)
        elif part is SpecialChars.WILDCARD_SINGLE:
            parts.append(1)
        elif isinstance(part, Placeholder):
            parts.append(["p", part.name])
        else:  # pragma: no cover - pySigma has no other part types
            raise ConversionError(f"unknown string part {part!r}")
    return parts


def convert_value(value: Any) -> Value:
    """One pySigma value (after modifiers) as an IR value."""
    if isinstance(value, SigmaCasedString):
        return ["s", string_parts(value), True]
    if isinstance(value, SigmaString):
        return ["s", string_parts(value), False]
    if isinstance(value, SigmaRegularExpression):
        if value.regexp.contains_placeholder():
            raise ConversionError("placeholders inside regular expressions are not supported")
        flags = "".join(sorted(_RE_FLAGS[f] for f in value.flags))
        return ["re", str(value.regexp), flags]
    if isinstance(value, SigmaCIDRExpression):
        return ["cidr", str(value.network)]
    if isinstance(value, SigmaTimestampPart):
        return ["ts", value.timestamp_part.name.lower(), value.number]
    if isinstance(value, SigmaBool):
        return ["bool", bool(value.boolean)]
    if isinstance(value, SigmaNumber):
        return ["num", value.number]
    if isinstance(value, SigmaNull):
        return ["null"]
    if isinstance(value, SigmaExists):
        return ["exists", bool(value.exists)]
    if isinstance(value, SigmaCompareExpression):
        return ["cmp", _CMP[value.op], value.number.number]
    if isinstance(value, SigmaFieldReference):
        return ["fref", value.field, bool(value.starts_with), bool(value.ends_with)]
    if isinstance(value, SigmaExpansion):
        return ["exp", [convert_value(v) for v in value.values]]
    raise ConversionError(f"value type {type(value).__name__} is not supported")


def convert_item(item: SigmaDetectionItem) -> Node:
    link = "and" if item.value_linking is ConditionAND else "or"
    values = [convert_value(v) for v in item.value]
    if not values:  # ``field: []`` means the field is null
        if item.field is None:
            raise ConversionError("empty keyword list")
        values = [["null"]]
    return ["leaf", item.field, link, bool(item.negated), values]


def convert_detection(det: SigmaDetection) -> Node:
    children = [
        convert_item(i) if isinstance(i, SigmaDetectionItem) else convert_detection(i)
        for i in det.detection_items
    ]
    if len(children) == 1:
        return children[0]
    return ["and" if det.item_linking is ConditionAND else "or", children]


def convert_condition(cond: Any, detections: SigmaDetections) -> Node:
    """The condition's parse tree (identifiers still unresolved) as IR with ``ref`` nodes."""
    if isinstance(cond, ConditionIdentifier):
        if cond.identifier not in detections.detections:
            raise ConversionError(f"condition names undefined detection {cond.identifier!r}")
        return ["ref", cond.identifier]
    if isinstance(cond, ConditionSelector):
        refs = [
            ["ref", ident.identifier] for ident in cond.resolve_referenced_detections(detections)
        ]
        if not refs:
            raise ConversionError(f"'{cond.args[0]} of {cond.pattern}' matches no detection")
        if len(refs) == 1:
            return refs[0]
        return ["or" if cond.cond_class is ConditionOR else "and", refs]
    if isinstance(cond, ConditionNOT):
        return ["not", convert_condition(cond.args[0], detections)]
    if isinstance(cond, (ConditionAND, ConditionOR)):
        kind = "and" if isinstance(cond, ConditionAND) else "or"
        return [kind, [convert_condition(a, detections) for a in cond.args if a is not None]]
    if isinstance(cond, ConditionItem):  # pragma: no cover - all subclasses handled above
        raise ConversionError(f"unsupported condition element {type(cond).__name__}")
    raise ConversionError(f"unsupported condition element {cond!r}")


def convert_detections(detections: SigmaDetections) -> tuple[dict[str, Node], list[Node]]:
    named = {name: convert_detection(det) for name, det in detections.detections.items()}
    conditions: list[Node] = []
    for cond in detections.parsed_condition:
        try:
            tree = cond.parse(postprocess=False)
        except Exception as exc:
            raise ConversionError(f"condition {cond.condition!r}: {exc}") from exc
        conditions.append(convert_condition(tree, detections))
    return named, conditions


def _meta(rule: SigmaRule | SigmaCorrelationRule | SigmaFilter) -> dict[str, Any]:
    return {
        "id": str(rule.id) if rule.id else "",
        "name": rule.name or "",
        "title": rule.title or "",
        "status": rule.status.name.lower() if rule.status else "",
        "level": rule.level.name.lower() if rule.level else "",
        "tags": [str(t) for t in rule.tags],
        "description": (rule.description or "").strip(),
        "falsepositives": [str(x) for x in rule.falsepositives],
        "author": rule.author or "",
    }


def _logsource(rule: SigmaRule | SigmaFilter) -> dict[str, str]:
    ls = rule.logsource
    return {
        k: str(v).lower()
        for k, v in (("product", ls.product), ("category", ls.category), ("service", ls.service))
        if v
    }


def convert_rule(rule: SigmaRule) -> dict[str, Any]:
    named, conditions = convert_detections(rule.detection)
    return {
        "kind": "rule",
        **_meta(rule),
        "logsource": _logsource(rule),
        "fields": list(rule.fields),
        "detections": named,
        "condition": conditions,
        "condition_text": [str(c) for c in rule.detection.condition],
    }


def convert_filter(flt: SigmaFilter) -> dict[str, Any]:
    named, conditions = convert_detections(flt.filter)
    rules = flt.filter.rules
    refs = ["any"] if isinstance(rules, str) else [r.reference for r in rules]
    return {
        "kind": "filter",
        **_meta(flt),
        "logsource": _logsource(flt),
        "rules": refs,
        "detections": named,
        "condition": conditions,
    }


def _corr_expr(node: Any) -> Node:
    if isinstance(node, SigmaRuleReference):
        return ["ref", node.reference]
    if isinstance(node, CorrelationConditionNOT):
        return ["not", _corr_expr(node.args[0])]
    kind = "and" if isinstance(node, CorrelationConditionAND) else "or"
    return [kind, [_corr_expr(a) for a in node.args]]


def convert_correlation(corr: SigmaCorrelationRule) -> dict[str, Any]:
    cond = corr.condition
    if isinstance(cond, SigmaCorrelationCondition):
        field = cond.fieldref
        condition: dict[str, Any] = {
            "op": cond.op.name.lower(),
            "count": cond.count,
            "field": field,
            "percentile": cond.percentile,
        }
    elif cond is None:
        condition = {}
    else:  # extended boolean condition over rule references (temporal only)
        condition = {"expr": _corr_expr(cond.parsed)}
    aliases = {
        a.alias: {ref.reference: fld for ref, fld in a.mapping.items()} for a in corr.aliases
    }
    return {
        "kind": "correlation",
        **_meta(corr),
        "type": corr.type.name.lower(),
        "rules": [r.reference for r in corr.rules or []],
        "group_by": list(corr.group_by or []),
        "timespan": corr.timespan.seconds,
        "condition": condition,
        "aliases": aliases,
        "generate": bool(corr.generate),
    }
