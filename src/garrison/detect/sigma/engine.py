"""The matching engine: rules grouped per source key, prefiltered, then evaluated.

``Engine.match(fields, fmt, class_uid)`` returns the rules an event matches. Per distinct
source key (Windows: channel + EventID + provider) the engine builds a ``Bucket`` once: the
rules whose logsource applies, their conditions folded with the key's constants (rules that
cannot match are dropped there), compiled, and indexed by ``CandidateIndex``. An event then
costs one dictionary lookup for its bucket, one scan per indexed field, and the full
evaluation of the few candidate rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from garrison.core.gctune import gc_paused
from garrison.detect.sigma.compile import (
    And,
    Const,
    Leaf,
    Named,
    Or,
    Tree,
    compile_tree,
    fold,
    named_nodes,
    where_tree,
)
from garrison.detect.sigma.fieldmap import FieldMap, default_fieldmaps
from garrison.detect.sigma.logsource import (
    LogsourceMap,
    SourceKey,
    Target,
    default_logsources,
    service_value,
)
from garrison.detect.sigma.modifiers import Pred
from garrison.detect.sigma.prefilter import CandidateIndex, best_requirements, requirements
from garrison.detect.sigma.view import EventView, raw_text

#: Distinct source keys kept; beyond this, buckets are rebuilt on demand (bounded memory).
MAX_BUCKETS = 4096


@dataclass(slots=True)
class RuleMeta:
    """What findings need to know about a rule."""

    index: int
    id: str
    title: str
    level: str = ""
    status: str = ""
    tags: list[str] = field(default_factory=list)
    description: str = ""
    falsepositives: list[str] = field(default_factory=list)
    author: str = ""
    path: str = ""
    name: str = ""
    logsource: dict[str, str] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    condition: list[str] = field(default_factory=list)
    #: Matches feed correlations only (referenced by a correlation with generate: false).
    silent: bool = False

    @property
    def uid(self) -> str:
        return self.id or self.name or self.title


@dataclass(slots=True)
class EngineRule:
    meta: RuleMeta
    tree: Tree
    targets: list[Target]
    #: Conditions ANDed to the rule: Sigma filter documents (``not selection``) and
    #: configured exceptions (as ``not exception``).
    extra: list[Tree] = field(default_factory=list)


@dataclass(slots=True)
class Bucket:
    key: SourceKey
    rules: list[int]  # rule indexes, one per slot
    preds: list[Pred]
    fieldmaps: list[FieldMap]
    index: CandidateIndex


@dataclass(slots=True)
class Match:
    rule: int
    fieldmap: FieldMap


class Engine:
    """Evaluates every loaded rule against events, per source-key bucket."""

    def __init__(
        self,
        rules: list[EngineRule],
        logsources: LogsourceMap | None = None,
        fieldmaps: Mapping[str, FieldMap] | None = None,
        placeholders: dict[str, list[str]] | None = None,
        native: bool = True,
    ) -> None:
        self.rules = rules
        self.logsources = logsources or default_logsources()
        self.fieldmaps = dict(fieldmaps or default_fieldmaps())
        self.placeholders = placeholders or {}
        self.native = native
        self._buckets: dict[tuple[Any, ...], Bucket] = {}
        self._service_spec = {
            fmt: spec for spec in self.logsources.other for fmt in spec["formats"]
        }
        self._explainers: dict[tuple[int, str], list[tuple[Named, Pred]]] = {}
        self.buckets_built = 0
        # rules by the channel their targets name (Windows) or by family (the rest)
        self._by_channel: dict[str, set[int]] = {}
        self._by_family: dict[str, set[int]] = {}
        for i, rule in enumerate(rules):
            for t in rule.targets:
                if t.family == "windows" and t.channels is not None:
                    for ch in t.channels:
                        self._by_channel.setdefault(ch, set()).add(i)
                else:
                    self._by_family.setdefault(t.family, set()).add(i)
        # per (rule, target): the effective tree, and its compiled form when folding left
        # it unchanged (most rules do not test Channel/EventID/Provider themselves)
        self._effective: dict[tuple[int, int], Tree] = {}
        self._unfolded: dict[tuple[int, int], tuple[Pred, list[Any]]] = {}

    # ------------------------------------------------------------------ buckets
    def _raw_key(
        self, fields: Mapping[str, Any], fmt: str, class_uid: int, ocsf: Mapping[str, Any] | None
    ) -> tuple[Any, ...]:
        channel = fields.get("Channel")
        if channel is not None:
            return (
                _hashable(channel),
                _hashable(fields.get("EventID")),
                _hashable(fields.get("Provider_Name")),
            )
        spec = self._service_spec.get(fmt)
        svc = service_value(spec, fields, ocsf) if spec else None
        return ("", fmt, class_uid, _hashable(svc))

    def bucket_for(
        self,
        fields: Mapping[str, Any],
        fmt: str = "",
        class_uid: int = 0,
        ocsf: Mapping[str, Any] | None = None,
    ) -> Bucket:
        raw = self._raw_key(fields, fmt, class_uid, ocsf)
        bucket = self._buckets.get(raw)
        if bucket is None:
            key = self.logsources.key_for(fields, fmt, class_uid, ocsf)
            with gc_paused():
                bucket = self.build_bucket(key)
            if len(self._buckets) >= MAX_BUCKETS:
                self._buckets.clear()
            self._buckets[raw] = bucket
        return bucket

    def build_bucket(self, key: SourceKey) -> Bucket:
        consts = dict(key.consts)
        slots: list[int] = []
        preds: list[Pred] = []
        fms: list[FieldMap] = []
        reqs = []
        chosen = set(self._by_family.get(key.family, ()))
        if key.family == "windows":
            chosen |= self._by_channel.get(key.channel, set())
        for i in sorted(chosen):
            rule = self.rules[i]
            t_index = next((n for n, t in enumerate(rule.targets) if t.applies(key)), None)
            if t_index is None:
                continue
            target = rule.targets[t_index]
            fm = self.fieldmaps.get(target.fieldmap) or self.fieldmaps[""]
            tree = self._effective.get((i, t_index))
            if tree is None:
                tree = self._effective[(i, t_index)] = self._effective_tree(rule, target)
            folded = fold(tree, consts, fm, self.placeholders)
            if isinstance(folded, Const) and not folded.value:
                continue
            if folded is tree:
                cached = self._unfolded.get((i, t_index))
                if cached is None:
                    cached = self._unfolded[(i, t_index)] = (
                        compile_tree(tree, fm, self.placeholders),
                        best_requirements(requirements(tree, fm, self.placeholders)),
                    )
                pred, req = cached
            else:
                pred = compile_tree(folded, fm, self.placeholders)
                req = best_requirements(requirements(folded, fm, self.placeholders))
            slots.append(i)
            preds.append(pred)
            fms.append(fm)
            reqs.append(req)
        self.buckets_built += 1
        return Bucket(key, slots, preds, fms, CandidateIndex(reqs, native=self.native))

    @staticmethod
    def _effective_tree(rule: EngineRule, target: Target) -> Tree:
        tree = rule.tree
        extra = where_tree(target.where)
        parts: list[Tree] = [tree]
        if extra is not None:
            parts.insert(0, extra)
        parts.extend(rule.extra)
        return parts[0] if len(parts) == 1 else And(parts)

    # ------------------------------------------------------------------ matching
    def match(
        self,
        fields: Mapping[str, Any],
        fmt: str = "",
        class_uid: int = 0,
        ocsf: Mapping[str, Any] | None = None,
    ) -> tuple[list[Match], EventView]:
        """The rules this event matches, and the view (lower-cased values) used."""
        bucket = self.bucket_for(fields, fmt, class_uid, ocsf)
        view = EventView(fields)  # type: ignore[arg-type]
        out: list[Match] = []
        if not bucket.rules:
            return out, view
        preds = bucket.preds
        for slot in bucket.index.candidates(view):
            if preds[slot](view):
                out.append(Match(bucket.rules[slot], bucket.fieldmaps[slot]))
        return out, view

    # ------------------------------------------------------------------ explanations
    def explain(
        self, match: Match, view: EventView, max_fields: int = 8
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Which named detections held, and the field values they looked at."""
        key = (match.rule, match.fieldmap.name)
        named = self._explainers.get(key)
        if named is None:
            named = [
                (n, compile_tree(n.child, match.fieldmap, self.placeholders))
                for n in named_nodes(self.rules[match.rule].tree)
            ]
            self._explainers[key] = named
        held: list[str] = []
        shown: list[tuple[str, str]] = []
        for node, pred in named:
            try:
                ok = pred(view)
            except Exception:  # explanation must never break detection
                ok = False
            if not ok:
                continue
            held.append(node.name)
            for leaf_field in _leaf_fields(node.child):
                event_field = match.fieldmap(leaf_field)
                text = raw_text(view.raw(event_field))
                if text is None or any(f == leaf_field for f, _ in shown):
                    continue
                if len(shown) < max_fields:
                    shown.append((leaf_field, text[:300]))
        return held, shown


def _hashable(value: Any) -> Any:
    """The value itself when it can key a dict, else a bounded text form of it."""
    if value is None or type(value) in (str, int):
        return value
    return repr(value)[:200]  # 1, 1.0 and True must not share a bucket


def _leaf_fields(tree: Tree) -> list[str]:
    out: list[str] = []

    def walk(node: Tree) -> None:
        if isinstance(node, Leaf):
            if node.field is not None and not node.negated and node.field not in out:
                out.append(node.field)
        elif isinstance(node, Named):
            walk(node.child)
        elif isinstance(node, (And, Or)):
            for c in node.children:
                walk(c)
        # Not: values the rule excludes are not why it matched

    walk(tree)
    return out
