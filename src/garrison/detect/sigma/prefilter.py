"""Candidate selection: which rules can possibly match an event, found in one pass per field.

For every rule (after constant folding) we derive *requirements*: sets of atoms such that the
rule can only match when, for each requirement, at least one of its atoms holds. An atom is
(field, kind, literal) with kind eq / start / end / contains over the lower-cased value; regex
values contribute the literals every match must contain. Up to ``MAX_REQS`` of the most
selective requirements are kept per rule, one bit each.

Per event and field the index does one dictionary lookup (eq atoms) and one Aho-Corasick scan
(all other atoms of all rules at once), sets the bits of the requirements hit, and yields the
rules whose bits are all set, plus the few rules with no usable requirement. Only those are
evaluated in full. The filter is exact-safe: it can let through a rule that then fails, never
hold back one that would match.
"""

from __future__ import annotations

import re
import re._parser as _sre_parse  # Python 3.11+: private but stable
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from garrison.detect.sigma.compile import And, Const, Leaf, Named, Not, Tree
from garrison.detect.sigma.fieldmap import FieldMap
from garrison.detect.sigma.modifiers import classify, expand_placeholders, has_placeholder
from garrison.detect.sigma.multimatch import MultiMatcher, multimatcher
from garrison.detect.sigma.view import ALL_TEXT, EventView

#: Requirements kept per rule.
MAX_REQS = 3
#: Literals shorter than this are too common to be worth an atom (except eq) -- unless
#: they hold a non-ASCII character (emoji, RTL override, homoglyphs), rare in logs.
MIN_LIT = 3


def too_short(lit: str) -> bool:
    return len(lit) < MIN_LIT and (not lit or lit.isascii())


Atom = tuple[str, str, str]  # (event field, kind, lower-case literal)
Req = frozenset[Atom]

_KIND_FACTOR = {"eq": 0.3, "start": 0.8, "end": 0.8, "contains": 1.2}


def atom_cost(atom: Atom) -> float:
    return _KIND_FACTOR[atom[1]] * 8.0 / (min(len(atom[2]), 16) + 1)


def req_cost(req: Req) -> float:
    return sum(atom_cost(a) for a in req)


# ------------------------------------------------------------------ requirement extraction


def _string_atoms(
    field_name: str, parts: list[Any], cased: bool, placeholders: dict[str, list[str]]
) -> set[Atom] | None:
    variants = expand_placeholders(parts, placeholders) if has_placeholder(parts) else [parts]
    out: set[Atom] = set()
    for var in variants:
        pat = classify(var, cased)
        if pat.kind == "eq":
            if not pat.lit:
                return None
            out.add((field_name, "eq", pat.lit.lower()))
        elif pat.kind in ("start", "end", "contains"):
            if too_short(pat.lit):
                return None
            out.add((field_name, pat.kind, pat.lit.lower()))
        elif pat.kind == "glob":
            lits = [(i, p) for i, p in enumerate(var) if isinstance(p, str)]
            if not lits:
                return None
            idx, lit = max(lits, key=lambda t: len(t[1]))
            if too_short(lit):
                return None
            kind = "start" if idx == 0 else "end" if idx == len(var) - 1 else "contains"
            out.add((field_name, kind, lit.lower()))
        else:
            return None
    return out


def regex_literals(pattern: str, flags: str = "") -> set[str] | None:
    """Literals (lower-case) one of which every match of the regex contains, or None."""
    value = 0
    for ch in flags:
        value |= {"i": re.I, "m": re.M, "s": re.S}[ch]
    try:
        parsed = _sre_parse.parse(pattern, value)
    except (re.error, RecursionError, OverflowError):
        return None
    return _seq_requirement(list(parsed), 0)


def _seq_requirement(items: list[Any], depth: int) -> set[str] | None:
    """The best requirement of a sequence: a literal run, or a group's alternatives."""
    if depth > 20:
        return None
    candidates: list[set[str]] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= MIN_LIT:
            candidates.append({"".join(run).lower()})
        run.clear()

    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(arg))
            continue
        if name == "AT":  # zero-width: ^ $ \b do not break a literal run
            continue
        flush()
        if name == "SUBPATTERN":
            sub = _seq_requirement(list(arg[-1]), depth + 1)
            if sub:
                candidates.append(sub)
        elif name == "BRANCH":
            alts = [_seq_requirement(list(alt), depth + 1) for alt in arg[1]]
            union: set[str] = set()
            for alt in alts:
                if not alt:
                    break
                union |= alt
            else:
                if union:
                    candidates.append(union)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
            sub = _seq_requirement(list(arg[2]), depth + 1)
            if sub:
                candidates.append(sub)
    flush()
    if not candidates:
        return None
    return min(candidates, key=lambda c: sum(1.0 / len(x) for x in c))


def _value_atoms(
    field_name: str, value: list[Any], placeholders: dict[str, list[str]]
) -> set[Atom] | None:
    kind = value[0]
    if kind == "s":
        return _string_atoms(field_name, value[1], bool(value[2]), placeholders)
    if kind == "num":
        n = value[1]
        text = str(int(n)) if isinstance(n, float) and n.is_integer() else str(n)
        return {(field_name, "eq", text)}
    if kind == "bool":
        return {(field_name, "eq", "true" if value[1] else "false")}
    if kind == "re":
        lits = regex_literals(value[1], value[2])
        if not lits or any(too_short(x) for x in lits):
            return None
        return {(field_name, "contains", x) for x in lits}
    if kind == "exp":
        out: set[Atom] = set()
        for sub in value[1]:
            atoms = _value_atoms(field_name, sub, placeholders)
            if atoms is None:
                return None
            out |= atoms
        return out
    return None


def _keyword_reqs(leaf: Leaf, placeholders: dict[str, list[str]]) -> list[Req]:
    """Keywords are substrings of the all-values text: contains atoms on ``ALL_TEXT``."""
    reqs: list[Req] = []
    atoms: set[Atom] = set()
    for value in leaf.values:
        if value[0] != "s":
            return []
        parts = value[1]
        variants = expand_placeholders(parts, placeholders) if has_placeholder(parts) else [parts]
        one: set[Atom] = set()
        for var in variants:
            lits = [p for p in var if isinstance(p, str)]
            if not lits:
                return [] if leaf.link == "or" else reqs
            lit = max(lits, key=len).lower()
            if too_short(lit) or "\x00" in lit:
                return [] if leaf.link == "or" else reqs
            one.add((ALL_TEXT, "contains", lit))
        if leaf.link == "and":
            reqs.append(frozenset(one))
        else:
            atoms |= one
    return reqs if leaf.link == "and" else [frozenset(atoms)] if atoms else []


def _leaf_reqs(leaf: Leaf, fm: FieldMap, placeholders: dict[str, list[str]]) -> list[Req]:
    cached: list[Req] | None = leaf.reqs.get(fm.name)
    if cached is None:
        cached = leaf.reqs[fm.name] = _leaf_reqs_uncached(leaf, fm, placeholders)
    return cached


def _leaf_reqs_uncached(leaf: Leaf, fm: FieldMap, placeholders: dict[str, list[str]]) -> list[Req]:
    if leaf.negated:
        return []
    if leaf.field is None:
        return _keyword_reqs(leaf, placeholders)
    name = fm(leaf.field)
    if leaf.link == "and" and len(leaf.values) > 1:
        reqs = []
        for value in leaf.values:
            atoms = _value_atoms(name, value, placeholders)
            if atoms:
                reqs.append(frozenset(atoms))
        return reqs
    union: set[Atom] = set()
    for value in leaf.values:
        atoms = _value_atoms(name, value, placeholders)
        if atoms is None:
            return []
        union |= atoms
    return [frozenset(union)] if union else []


def requirements(tree: Tree, fm: FieldMap, placeholders: dict[str, list[str]]) -> list[Req]:
    """AND-linked requirements of the tree (empty: nothing usable, evaluate always)."""
    if isinstance(tree, Leaf):
        return _leaf_reqs(tree, fm, placeholders)
    if isinstance(tree, Named):
        return requirements(tree.child, fm, placeholders)
    if isinstance(tree, (Not, Const)):
        return []
    if isinstance(tree, And):
        out: list[Req] = []
        for child in tree.children:
            out.extend(requirements(child, fm, placeholders))
        return out
    union: set[Atom] = set()
    for child in tree.children:
        reqs = requirements(child, fm, placeholders)
        if not reqs:
            return []
        union |= min(reqs, key=lambda r: req_cost(frozenset(r)))
    return [frozenset(union)]


def best_requirements(reqs: Iterable[Req], limit: int = MAX_REQS) -> list[Req]:
    unique = sorted(set(reqs), key=req_cost)
    return unique[:limit]


# ------------------------------------------------------------------------------ the index

Entry = tuple[int, int]  # (rule slot, requirement bit)
#: First characters of view keys that are not plain fields (templates, all-values text).
_DERIVED = frozenset({"{", "\x00"})


@dataclass(slots=True)
class _Pattern:
    contains: list[Entry] = field(default_factory=list)
    start: list[Entry] = field(default_factory=list)
    end: list[Entry] = field(default_factory=list)


@dataclass(slots=True)
class _FieldIndex:
    eq: dict[str, list[Entry]] = field(default_factory=dict)
    literals: list[str] = field(default_factory=list)
    patterns: list[_Pattern] = field(default_factory=list)
    matcher: MultiMatcher | None = None


def _finder(matcher: MultiMatcher | None) -> Callable[[str], list[tuple[int, int, int]]]:
    """The matcher's all-occurrences search, as direct a call as possible."""
    assert matcher is not None  # noqa: S101 - narrows the type: called only where i.matcher is set
    native = getattr(matcher, "native_find_all", None)
    return native if native is not None else matcher.find_all


class CandidateIndex:
    """The requirement index of one bucket of rules."""

    def __init__(self, rule_reqs: list[list[Req]], native: bool = True) -> None:
        self.full: list[int] = []
        self.always: list[int] = []
        fields: dict[str, _FieldIndex] = {}
        slots: dict[tuple[str, str], int] = {}
        for slot, reqs in enumerate(rule_reqs):
            self.full.append((1 << len(reqs)) - 1)
            if not reqs:
                self.always.append(slot)
                continue
            for bit_no, req in enumerate(reqs):
                entry = (slot, 1 << bit_no)
                for fld, kind, lit in req:
                    idx = fields.setdefault(fld, _FieldIndex())
                    if kind == "eq":
                        idx.eq.setdefault(lit, []).append(entry)
                        continue
                    key = (fld, lit)
                    if key not in slots:
                        slots[key] = len(idx.literals)
                        idx.literals.append(lit)
                        idx.patterns.append(_Pattern())
                    getattr(idx.patterns[slots[key]], kind).append(entry)
        for idx in fields.values():
            if idx.literals:
                idx.matcher = multimatcher(idx.literals, native=native)
        # (field, derived?, ...): derived keys (templates, all-values text) are not in the
        # event's own dict and always go through the view
        self._eq = [(f, f[:1] in _DERIVED, i.eq) for f, i in fields.items() if i.eq]
        self._scan = [
            (
                f,
                f[:1] in _DERIVED,
                _finder(i.matcher),
                [(tuple(p.contains), tuple(p.start), tuple(p.end)) for p in i.patterns],
            )
            for f, i in fields.items()
            if i.matcher
        ]
        self.fields = sorted(fields)

    def candidates(self, view: EventView) -> list[int]:
        hits: dict[int, int] = {}
        get = hits.get
        fields = view.fields
        for fld, derived, eqmap in self._eq:
            if derived:
                s = view[fld]
            else:
                raw = fields.get(fld)
                if raw is None:
                    continue
                if type(raw) is str:
                    s = view.get(fld)
                    if s is None:
                        s = view[fld] = raw.lower()
                else:
                    s = view[fld]
            if s is None:
                continue
            for text in (s,) if type(s) is str else s:
                entries = eqmap.get(text)
                if entries:
                    for slot, bit in entries:
                        hits[slot] = get(slot, 0) | bit
        for fld, derived, find, patterns in self._scan:
            if derived:
                s = view[fld]
            else:
                raw = fields.get(fld)
                if raw is None:
                    continue
                if type(raw) is str:
                    s = view.get(fld)
                    if s is None:
                        s = view[fld] = raw.lower()
                else:
                    s = view[fld]
            if s is None:
                continue
            for text in (s,) if type(s) is str else s:
                end = len(text)
                for pi, st, en in find(text):
                    contains, start, ending = patterns[pi]
                    for slot, bit in contains:
                        hits[slot] = get(slot, 0) | bit
                    if st == 0:
                        for slot, bit in start:
                            hits[slot] = get(slot, 0) | bit
                    if en == end:
                        for slot, bit in ending:
                            hits[slot] = get(slot, 0) | bit
        full = self.full
        out = [slot for slot, mask in hits.items() if mask == full[slot]]
        if self.always:
            out.extend(self.always)
        return out
