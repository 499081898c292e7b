"""Value semantics: one IR detection item (field, values, modifiers applied) -> a predicate.

The rules of the Sigma specification, as the pySigma + SQLite reference applies them:

- Strings match case-insensitively (``|cased`` makes them case-sensitive); ``*`` and ``?``
  are wildcards (escapes were resolved by pySigma); a string without wildcards must equal
  the whole value. contains/startswith/endswith arrive as wildcards added by pySigma.
- Numbers and booleans compare with the value's text form, so ``EventID: 4688`` matches
  4688 and "4688".
- ``re`` searches the original (not lower-cased) text, unanchored, with the i/m/s flags,
  on RE2 (linear time; see regex.py for how Python's dialect is kept and what is refused).
- ``null`` matches an absent field, a null value or an empty string; ``''`` matches an empty
  string or a present null. ``exists`` is true when the field has a non-null value.
- ``cidr`` checks IPv4/IPv6 membership; gt/gte/lt/lte/neq compare numbers (non-numbers never
  match); ``fieldref`` compares with another field's value (case-insensitively).
- Values of one item are OR-linked, or AND-linked with ``|all``; an expansion (base64offset,
  windash) is always an OR group.
- Keywords (no field) match when any field value contains the keyword (wildcards honoured).
- A list-valued field matches when any of its items matches.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from garrison.detect.sigma.convert import ConversionError, Value
from garrison.detect.sigma.multimatch import multimatcher
from garrison.detect.sigma.regex import compile_globs, compile_regex, glob_literal
from garrison.detect.sigma.view import ALL_TEXT, EventView, raw_text

StrPred = Callable[[str], bool]
T = TypeVar("T")
Pred = Callable[[EventView], bool]

#: More contains-literals than this in one item are searched with one automaton.
AC_THRESHOLD = 12


@dataclass(slots=True, frozen=True)
class StrPattern:
    """One Sigma string: ``kind`` eq/start/end/contains/any/glob with its (lower-case) text."""

    kind: str
    lit: str = ""
    glob: str = ""  # regex source for kind == "glob"
    cased: bool = False


def expand_placeholders(parts: list[Any], placeholders: dict[str, list[str]]) -> list[list[Any]]:
    """Each combination of placeholder values (``expand``); unknown placeholders fail."""
    out: list[list[Any]] = [[]]
    for part in parts:
        if isinstance(part, list):
            name = part[1]
            if name not in placeholders:
                raise ConversionError(
                    f"placeholder %{name}% has no value (set the sigma option placeholders.{name})"
                )
            choices = [_parse_glob_text(str(v)) for v in placeholders[name]]
            if not choices:
                raise ConversionError(f"placeholder %{name}% has an empty value list")
            out = [prefix + choice for prefix in out for choice in choices]
        else:
            out = [[*prefix, part] for prefix in out]
    return out


def _parse_glob_text(text: str) -> list[Any]:
    parts: list[Any] = []
    for chunk in re.split(r"([*?])", text):
        if chunk == "*":
            parts.append(0)
        elif chunk == "?":
            parts.append(1)
        elif chunk:
            parts.append(chunk)
    return parts


def has_placeholder(parts: list[Any]) -> bool:
    return any(isinstance(p, list) for p in parts)


def classify(parts: list[Any], cased: bool = False) -> StrPattern:
    """The cheapest test equivalent to a wildcard pattern."""
    norm = [p if isinstance(p, int) else (p if cased else p.lower()) for p in parts]
    # collapse runs of '*'
    squeezed: list[Any] = []
    for p in norm:
        if p == 0 and squeezed and squeezed[-1] == 0:
            continue
        squeezed.append(p)
    lits = [p for p in squeezed if isinstance(p, str)]
    if 1 not in squeezed:
        if not lits:
            return StrPattern("any" if 0 in squeezed else "eq", "", cased=cased)
        if len(lits) == 1:
            lit = lits[0]
            if squeezed == [lit]:
                return StrPattern("eq", lit, cased=cased)
            if squeezed == [lit, 0]:
                return StrPattern("start", lit, cased=cased)
            if squeezed == [0, lit]:
                return StrPattern("end", lit, cased=cased)
            if squeezed == [0, lit, 0]:
                return StrPattern("contains", lit, cased=cased)
    src = "".join(".*" if p == 0 else "." if p == 1 else glob_literal(p) for p in squeezed)
    return StrPattern("glob", glob=src, cased=cased)


def _contains_pred(lits: Sequence[str]) -> StrPred:
    if len(lits) == 1:
        lit = lits[0]
        return lambda s: lit in s
    if len(lits) > AC_THRESHOLD:
        return multimatcher(lits).any_in
    tup = tuple(lits)

    def any_contains(s: str) -> bool:
        for lit in tup:  # noqa: SIM110 (a loop is faster than any()/all() here)
            if lit in s:
                return True
        return False

    return any_contains


def any_of(patterns: Sequence[StrPattern]) -> StrPred:
    """One predicate true when the text matches any of the patterns (all of one casing)."""
    if any(p.kind == "any" for p in patterns):
        return lambda s: True
    preds: list[StrPred] = []
    eq = frozenset(p.lit for p in patterns if p.kind == "eq")
    starts = tuple(p.lit for p in patterns if p.kind == "start")
    ends = tuple(p.lit for p in patterns if p.kind == "end")
    contains = sorted({p.lit for p in patterns if p.kind == "contains"}, key=len)
    globs = [p.glob for p in patterns if p.kind == "glob"]
    if eq:
        preds.append(eq.__contains__)
    if starts:
        preds.append(lambda s: s.startswith(starts))
    if ends:
        preds.append(lambda s: s.endswith(ends))
    if contains:
        preds.append(_contains_pred(contains))
    if globs:
        # RE2: a value with several '*' would backtrack polynomially under Python's re
        preds.append(compile_globs(globs))
    return _or_str(preds)


def or_preds(preds: list[Callable[[T], bool]]) -> Callable[[T], bool]:
    """One predicate true when any is: over event views, or over strings (``_or_str``)."""
    if not preds:
        return lambda v: False
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda v: a(v) or b(v)
    tup = tuple(preds)

    def or_all(v: T) -> bool:
        for p in tup:  # noqa: SIM110 (a loop is faster than any()/all() here)
            if p(v):
                return True
        return False

    return or_all


_or_str = or_preds


def and_preds(preds: list[Pred]) -> Pred:
    if not preds:
        return lambda v: True
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda v: a(v) and b(v)
    tup = tuple(preds)

    def and_all(v: EventView) -> bool:
        for p in tup:  # noqa: SIM110 (a loop is faster than any()/all() here)
            if not p(v):
                return False
        return True

    return and_all


def not_pred(pred: Pred) -> Pred:
    return lambda v: not pred(v)


# ---------------------------------------------------------------- field-bound predicates


def _on_lower(field: str, sp: StrPred) -> Pred:
    def pred(v: EventView) -> bool:
        s = v[field]
        if s is None:
            return False
        if type(s) is str:
            return sp(s)
        return any(sp(x) for x in s)

    return pred


def _on_raw(field: str, sp: StrPred) -> Pred:
    def pred(v: EventView) -> bool:
        raw = v.raw(field)
        if isinstance(raw, (list, tuple)):
            return any(sp(t) for t in (raw_text(x) for x in raw) if t is not None)
        text = raw_text(raw)
        return text is not None and sp(text)

    return pred


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    try:
        return float(str(raw).strip())
    except ValueError:
        return None


_OPS: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "neq": lambda a, b: a != b,
}


def _cmp_pred(field: str, op: str, number: float) -> Pred:
    fn = _OPS[op]

    def pred(v: EventView) -> bool:
        n = _number(v.raw(field))
        return n is not None and fn(n, number)

    return pred


def _cidr_pred(field: str, networks: list[str]) -> Pred:
    nets = [ipaddress.ip_network(n, strict=False) for n in networks]
    ranges = [(n.version, int(n.network_address), int(n.broadcast_address)) for n in nets]

    def pred(v: EventView) -> bool:
        text = raw_text(v.raw(field))
        if not text:
            return False
        try:
            ip = ipaddress.ip_address(text.strip().split("%")[0])
        except ValueError:
            return False
        n = int(ip)
        return any(ver == ip.version and lo <= n <= hi for ver, lo, hi in ranges)

    return pred


def _fieldref_pred(field: str, other: str, sw: bool, ew: bool) -> Pred:
    def pred(v: EventView) -> bool:
        a, b = v[field], v[other]
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        if sw and ew:
            return b in a
        if sw:
            return a.startswith(b)
        if ew:
            return a.endswith(b)
        return a == b

    return pred


_TS_PARTS: dict[str, Callable[[datetime], int]] = {
    "minute": lambda d: d.minute,
    "hour": lambda d: d.hour,
    "day": lambda d: d.day,
    "week": lambda d: d.isocalendar()[1],
    "month": lambda d: d.month,
    "year": lambda d: d.year,
}


def _timestamp_pred(field: str, part: str, number: float) -> Pred:
    get = _TS_PARTS[part]

    def pred(v: EventView) -> bool:
        raw = v.raw(field)
        try:
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                stamp = datetime.fromtimestamp(raw / 1000 if raw > 1e11 else raw, UTC)
            else:
                text = raw_text(raw)
                if not text:
                    return False
                stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except (ValueError, OverflowError, OSError):
            return False
        return get(stamp) == number

    return pred


def _null_pred(field: str) -> Pred:
    return lambda v: v[field] in (None, "")


def _empty_pred(field: str) -> Pred:
    def pred(v: EventView) -> bool:
        if v[field] == "":
            return True
        return field in v.fields and v.fields[field] is None

    return pred


class ValueGroup:
    """The OR-linked values of one item (or one AND member), sorted into kinds."""

    def __init__(self, field: str | None, placeholders: dict[str, list[str]]) -> None:
        self.field = field
        self.placeholders = placeholders
        self.lower: list[StrPattern] = []
        self.cased: list[StrPattern] = []
        self.regex: list[StrPred] = []
        self.event: list[Pred] = []
        self.cidrs: list[str] = []

    def add(self, value: Value) -> None:
        kind = value[0]
        if kind == "exp":
            for sub in value[1]:
                self.add(sub)
        elif kind == "s":
            self._add_string(value[1], bool(value[2]))
        elif kind == "num":
            n = value[1]
            text = str(int(n)) if isinstance(n, float) and n.is_integer() else str(n)
            self.lower.append(StrPattern("eq", text))
        elif kind == "bool":
            self.lower.append(StrPattern("eq", "true" if value[1] else "false"))
        elif kind == "re":
            self.regex.append(compile_regex(value[1], value[2]))
        else:
            self._add_field_only(value)

    def _add_string(self, parts: list[Any], cased: bool) -> None:
        variants = (
            expand_placeholders(parts, self.placeholders) if has_placeholder(parts) else [parts]
        )
        for var in variants:
            if self.field is None:  # keyword: a substring anywhere unless anchored by hand
                if not var or var[0] != 0:
                    var = [0, *var]
                if var[-1] != 0:
                    var = [*var, 0]
            pat = classify(var, cased)
            if pat.kind == "eq" and pat.lit == "" and self.field is not None:
                self.event.append(_empty_pred(self.field))
            else:
                (self.cased if cased else self.lower).append(pat)

    def _add_field_only(self, value: Value) -> None:
        kind, field = value[0], self.field
        if field is None:
            raise ConversionError(f"'{kind}' values need a field (found in a keyword list)")
        if kind == "null":
            self.event.append(_null_pred(field))
        elif kind == "exists":
            want = bool(value[1])
            self.event.append(lambda v: v.has(field) is want)
        elif kind == "cmp":
            self.event.append(_cmp_pred(field, value[1], float(value[2])))
        elif kind == "cidr":
            self.cidrs.append(value[1])
        elif kind == "fref":
            self.event.append(_fieldref_pred(field, value[1], bool(value[2]), bool(value[3])))
        elif kind == "ts":
            self.event.append(_timestamp_pred(field, value[1], float(value[2])))
        else:
            raise ConversionError(f"unknown value kind {kind!r}")

    def predicate(self) -> Pred:
        field = self.field
        if field is None:
            return self._keyword_predicate()
        preds: list[Pred] = []
        if self.lower:
            preds.append(_on_lower(field, any_of(self.lower)))
        if self.cased:
            preds.append(_on_raw(field, any_of(self.cased)))
        if self.regex:
            preds.append(_on_raw(field, _or_str(self.regex)))
        if self.cidrs:
            preds.append(_cidr_pred(field, self.cidrs))
        preds.extend(self.event)
        return or_preds(preds)

    def _keyword_predicate(self) -> Pred:
        if (
            self.lower
            and not self.cased
            and not self.regex
            and all(p.kind in ("contains", "any") and "\x00" not in p.lit for p in self.lower)
        ):
            # one scan of all values joined by NUL: a keyword cannot span two values
            return _on_lower(ALL_TEXT, any_of(self.lower))
        low = any_of(self.lower) if self.lower else None
        cased = any_of(self.cased) if self.cased else None
        rx = _or_str(self.regex) if self.regex else None

        def pred(v: EventView) -> bool:
            for key in v.fields:
                if low is not None:
                    s = v[key]
                    if isinstance(s, str) and low(s):
                        return True
                    if isinstance(s, tuple) and any(low(x) for x in s):
                        return True
                if cased is not None or rx is not None:
                    text = raw_text(v.fields[key])
                    if text is not None and (
                        (cased is not None and cased(text)) or (rx is not None and rx(text))
                    ):
                        return True
            return False

        return pred


def compile_item(
    field: str | None,
    link: str,
    negated: bool,
    values: list[Value],
    placeholders: dict[str, list[str]],
) -> Pred:
    """The predicate of one detection item: its values OR-linked, or AND-linked (``|all``)."""
    if link == "and" and len(values) > 1:
        members = []
        for value in values:
            group = ValueGroup(field, placeholders)
            group.add(value)
            members.append(group.predicate())
        pred = and_preds(members)
    else:
        group = ValueGroup(field, placeholders)
        for value in values:
            group.add(value)
        pred = group.predicate()
    return not_pred(pred) if negated else pred
