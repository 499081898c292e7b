"""Loaded IR documents -> the engine's rules, correlations and filters, with options applied.

Here the per-rule noise controls take effect: disabled rules are left out (and counted),
configured exceptions and Sigma filter documents are ANDed into the rules they name, and
every leaf is compiled once so that a bad value is a load error, not a crash mid-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sigma.rule import SigmaDetection

from garrison.detect.sigma.compile import Not, Or, Tree, build_tree, check_compiles
from garrison.detect.sigma.convert import ConversionError, convert_detection
from garrison.detect.sigma.correlation import SUPPORTED, CorrelationSpec
from garrison.detect.sigma.engine import EngineRule, RuleMeta
from garrison.detect.sigma.fieldmap import FieldMap, default_fieldmaps
from garrison.detect.sigma.loader import LoadResult, RuleDoc
from garrison.detect.sigma.logsource import LogsourceMap, default_logsources
from garrison.detect.sigma.noise import SigmaOptions, rule_selected


@dataclass(slots=True)
class RuleSet:
    rules: list[EngineRule] = field(default_factory=list)
    correlations: list[CorrelationSpec] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    disabled: int = 0
    unmapped: list[str] = field(default_factory=list)
    filters: int = 0
    #: bundled rules a user's rule with the same id replaced (label -> note)
    overridden: dict[str, str] = field(default_factory=dict)

    @property
    def loaded(self) -> int:
        return len(self.rules) + len(self.correlations)


def _meta(index: int, doc: RuleDoc) -> RuleMeta:
    ir = doc.ir
    return RuleMeta(
        index=index,
        id=ir.get("id", ""),
        title=ir.get("title", ""),
        level=ir.get("level", ""),
        status=ir.get("status", ""),
        tags=list(ir.get("tags", [])),
        description=ir.get("description", ""),
        falsepositives=list(ir.get("falsepositives", [])),
        author=ir.get("author", ""),
        path=doc.path,
        name=ir.get("name", ""),
        logsource=dict(ir.get("logsource", {})),
        fields=list(ir.get("fields", [])),
        condition=list(ir.get("condition_text", [])),
    )


def _exception_tree(selections: list[dict[str, Any]]) -> Tree:
    trees = []
    for i, sel in enumerate(selections):
        ir = convert_detection(SigmaDetection.from_definition(sel))
        trees.append(build_tree({f"exception_{i}": ir}, [["ref", f"exception_{i}"]]))
    return trees[0] if len(trees) == 1 else Or(trees)


def build_ruleset(
    loaded: LoadResult,
    options: SigmaOptions | None = None,
    logsources: LogsourceMap | None = None,
    fieldmaps: dict[str, FieldMap] | None = None,
) -> RuleSet:
    opts = options or SigmaOptions()
    ls = logsources or default_logsources()
    fms = fieldmaps or default_fieldmaps()
    out = RuleSet(errors=dict(loaded.errors), overridden=dict(loaded.overridden))
    by_ref: dict[str, int] = {}
    corr_docs: list[RuleDoc] = []
    filter_docs: list[RuleDoc] = []
    for doc in loaded.docs:
        kind = doc.ir.get("kind")
        if kind == "correlation":
            corr_docs.append(doc)
            continue
        if kind == "filter":
            filter_docs.append(doc)
            continue
        ir = doc.ir
        if rule_selected(
            opts.disabled, ir.get("id", ""), ir.get("title", ""), doc.path, ir.get("name", "")
        ):
            out.disabled += 1
            continue
        rule = _engine_rule(len(out.rules), doc, opts, ls, fms, out)
        if rule is None:
            continue
        out.rules.append(rule)
        for ref in (rule.meta.id, rule.meta.name):
            if ref:
                by_ref[ref] = rule.meta.index
    for doc in filter_docs:
        _apply_filter(doc, out, by_ref, opts, fms)
    for doc in corr_docs:
        try:
            _add_correlation(doc, out, by_ref, opts)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # a rule file is attacker-influenced data: a malformed correlation (a mapping
            # where a rule id belongs, a non-numeric timespan ...) fails that rule alone
            out.errors[doc.label] = f"malformed correlation: {type(exc).__name__}: {exc}"
    return out


def _engine_rule(
    index: int,
    doc: RuleDoc,
    opts: SigmaOptions,
    ls: LogsourceMap,
    fms: dict[str, FieldMap],
    out: RuleSet,
) -> EngineRule | None:
    ir = doc.ir
    try:
        tree = build_tree(ir["detections"], ir["condition"])
        targets, known = ls.targets(ir.get("logsource", {}))
        extra: list[Tree] = []
        exc = rule_selected(
            opts.exceptions, ir.get("id", ""), ir.get("title", ""), doc.path, ir.get("name", "")
        )
        if exc:
            extra.append(Not(_exception_tree(exc)))
        for target in targets:
            fm = fms.get(target.fieldmap, fms[""])
            check_compiles(tree, fm, opts.placeholders)
            for t in extra:
                check_compiles(t, fm, opts.placeholders)
    except (ConversionError, ValueError, KeyError, TypeError) as exc_:
        out.errors[doc.label] = str(exc_) or type(exc_).__name__
        return None
    except Exception as exc_:  # pySigma errors from exceptions config, regex edge cases
        out.errors[doc.label] = f"{type(exc_).__name__}: {exc_}"
        return None
    if not known:
        out.unmapped.append(doc.label)
    return EngineRule(_meta(index, doc), tree, targets, extra)


def _apply_filter(
    doc: RuleDoc, out: RuleSet, by_ref: dict[str, int], opts: SigmaOptions, fms: dict[str, FieldMap]
) -> None:
    ir = doc.ir
    try:
        tree = build_tree(ir["detections"], ir["condition"])
        check_compiles(tree, fms[""], opts.placeholders)
    except Exception as exc:
        out.errors[doc.label] = f"filter: {exc}"
        return
    refs = ir.get("rules", [])
    if refs == ["any"]:
        flt_ls = ir.get("logsource", {})
        chosen = [
            r for r in out.rules if all(r.meta.logsource.get(k) == v for k, v in flt_ls.items())
        ]
    else:
        missing = [r for r in refs if r not in by_ref]
        if missing:
            out.errors[doc.label] = f"filter names unknown rules: {', '.join(missing)}"
        chosen = [out.rules[by_ref[r]] for r in refs if r in by_ref]
    for rule in chosen:
        rule.extra.append(tree)
    out.filters += 1


def _add_correlation(
    doc: RuleDoc, out: RuleSet, by_ref: dict[str, int], opts: SigmaOptions
) -> None:
    ir = doc.ir
    if rule_selected(
        opts.disabled, ir.get("id", ""), ir.get("title", ""), doc.path, ir.get("name", "")
    ):
        out.disabled += 1
        return
    ctype = ir.get("type", "")
    if ctype not in SUPPORTED:
        out.errors[doc.label] = f"correlation type {ctype!r} is not supported"
        return
    refs = ir.get("rules", [])
    missing = [r for r in refs if r not in by_ref]
    if missing:
        out.errors[doc.label] = (
            "correlation references rules that are not loaded "
            f"(or are correlations): {', '.join(missing)}"
        )
        return
    cond = ir.get("condition", {})
    aliases = {
        alias: {by_ref[ref]: fld for ref, fld in mapping.items() if ref in by_ref}
        for alias, mapping in ir.get("aliases", {}).items()
    }
    try:
        expr = _resolve_expr(cond["expr"], by_ref) if "expr" in cond else None
    except ConversionError as exc:
        out.errors[doc.label] = str(exc)
        return
    meta = _meta(len(out.rules) + len(out.correlations), doc)
    spec = CorrelationSpec(
        meta=meta,
        type=ctype,
        rules=[by_ref[r] for r in refs],
        group_by=list(ir.get("group_by", [])),
        aliases=aliases,
        timespan_ms=int(ir.get("timespan", 0)) * 1000,
        op=cond.get("op") or "gte",
        count=float(cond.get("count") or 0),
        value_field=cond.get("field") or "",
        percentile=int(cond.get("percentile") or 50),
        expr=expr,
    )
    if isinstance(spec.value_field, list):
        spec.value_field = spec.value_field[0] if spec.value_field else ""
    if not ir.get("generate", False):
        for r in spec.rules:
            out.rules[r].meta.silent = True
    out.correlations.append(spec)


def _resolve_expr(expr: list[Any], by_ref: dict[str, int]) -> list[Any]:
    if expr[0] == "ref":
        if expr[1] not in by_ref:
            raise ConversionError(f"unknown rule {expr[1]!r} in correlation condition")
        return ["ref", by_ref[expr[1]]]
    if expr[0] == "not":
        return ["not", _resolve_expr(expr[1], by_ref)]
    return [expr[0], [_resolve_expr(e, by_ref) for e in expr[1]]]
