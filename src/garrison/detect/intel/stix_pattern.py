"""STIX 2.x patterns reduced to the exact look-ups the intel detector can do, or refused.

A pattern is usable when it is an OR of equality tests (``=`` or ``IN``) on a value we
index: ``ipv4-addr:value``, ``ipv6-addr:value``, ``domain-name:value``, ``url:value``,
``email-addr:value`` (and ``email-message:from_ref.value`` / ``sender_ref.value``) and
``file:hashes.MD5 / 'SHA-1' / 'SHA-256' / 'SHA-512'``. Anything whose truth needs more than
"this value was seen" -- AND (within or across observations), FOLLOWEDBY, NOT, ``!=``,
MATCHES, LIKE, ISSUBSET, comparisons, EXISTS, WITHIN / START-STOP / REPEATS qualifiers,
other object paths -- raises ``Unsupported`` with the construct's name: such an indicator
is counted, never half-matched.

Parsing uses the OASIS ``stix2-patterns`` grammar (ANTLR). A pattern made of one bracketed
equality, the common case, is read by a strict regular expression first (~50x faster on
100k-indicator feeds); the tests check both paths agree.

>>> compile_pattern("[domain-name:value = 'evil.example'] OR [url:value = 'http://x.example/a']")
[('domain', 'evil.example', 'domain-name:value'), ('url', 'http://x.example/a', 'url:value')]
"""

from __future__ import annotations

import re
from typing import Any

from stix2patterns.exceptions import ParseException
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser as P
from stix2patterns.v21.pattern import Pattern

from garrison.detect.intel.values import HASH_ALGORITHMS, canonical

#: Object path -> indicator kind.
_PATHS: dict[str, str] = {
    "ipv4-addr:value": "ip",
    "ipv6-addr:value": "ip",
    "domain-name:value": "domain",
    "url:value": "url",
    "email-addr:value": "email",
    "email-message:from_ref.value": "email",
    "email-message:sender_ref.value": "email",
}
#: ``file:hashes.<algorithm>`` names (quotes removed, upper case) -> digest length.
_HASHES = {"MD5": 32, "SHA-1": 40, "SHA1": 40, "SHA-256": 64, "SHA256": 64, "SHA-512": 128}
_HASHES.update({"SHA512": 128})
_SIMPLE = re.compile(
    r"^\s*\[\s*([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*'((?:[^'\\]|\\['\\])*)'\s*\]\s*$"
)
MAX_PATTERN = 65_536

Term = tuple[str, str, str]


class Unsupported(ValueError):
    """The pattern cannot be evaluated exactly by value look-up; ``str`` says why."""


def _term(object_type: str, path: str, literal: str) -> Term:
    """(kind, canonical value, feed path) for one equality test."""
    path = path.replace("'", "")
    feed_path = f"{object_type}:{path}"
    if object_type == "file" and path.startswith("hashes."):
        algorithm = path[len("hashes.") :].upper()
        length = _HASHES.get(algorithm)
        if length is None:
            raise Unsupported(f"hash algorithm {algorithm[:20]!r}")
        try:
            value = canonical("hash", literal)
        except ValueError as exc:
            raise Unsupported(f"bad {algorithm} value ({exc})") from None
        if len(value) != length:
            raise Unsupported(f"{algorithm} value of {HASH_ALGORITHMS[len(value)]} length")
        return "hash", value, feed_path
    kind = _PATHS.get(feed_path)
    if kind is None:
        raise Unsupported(f"object path {feed_path[:60]!r}")
    try:
        value = canonical(kind, literal)
    except ValueError as exc:
        raise Unsupported(f"bad {feed_path} value ({exc})") from None
    wrong_version = ":" in value if object_type == "ipv4-addr" else ":" not in value
    if object_type in ("ipv4-addr", "ipv6-addr") and wrong_version:
        raise Unsupported(f"{object_type} value of the other IP version")
    return kind, value, feed_path


def _unescape(literal: str) -> str:
    return literal.replace("\\'", "'").replace("\\\\", "\\")


class _Tree:
    """A 'visitor' that hands back the parse tree (``Pattern`` keeps it private)."""

    def visit(self, tree: Any) -> Any:
        return tree


def compile_pattern(text: Any) -> list[Term]:
    """The equality terms of an OR-only pattern; ``Unsupported`` for anything else."""
    if not isinstance(text, str) or not text.strip():
        raise Unsupported("no pattern")
    if len(text) > MAX_PATTERN:
        raise Unsupported("pattern too long")
    simple = _SIMPLE.match(text)
    if simple is not None:
        return [_term(simple.group(1), simple.group(2), _unescape(simple.group(3)))]
    return parse_pattern(text)


def parse_pattern(text: str) -> list[Term]:
    """Like ``compile_pattern`` but always through the ANTLR grammar."""
    try:
        tree = Pattern(text).visit(_Tree())
    except ParseException as exc:
        raise Unsupported(f"not a valid STIX pattern ({str(exc)[:80]})") from None
    except RecursionError:
        raise Unsupported("pattern nested too deeply") from None
    terms: list[Term] = []
    try:
        _walk(tree, terms)
    except RecursionError:
        raise Unsupported("pattern nested too deeply") from None
    if not terms:
        raise Unsupported("no comparison")
    return list(dict.fromkeys(terms))


def _walk(ctx: Any, out: list[Term]) -> None:
    if isinstance(ctx, P.PatternContext):
        _walk(ctx.observationExpressions(), out)
    elif isinstance(ctx, P.ObservationExpressionsContext):
        if ctx.FOLLOWEDBY() is not None:
            raise Unsupported("FOLLOWEDBY")
        _walk(ctx.observationExpressionOr(), out)
    elif isinstance(ctx, P.ObservationExpressionOrContext):
        _either(ctx.observationExpressionOr(), ctx.observationExpressionAnd, out)
    elif isinstance(ctx, P.ObservationExpressionAndContext):
        if ctx.observationExpressionAnd():
            raise Unsupported("AND across observations")
        _walk(ctx.observationExpression(), out)
    elif isinstance(ctx, P.ObservationExpressionSimpleContext):
        _walk(ctx.comparisonExpression(), out)
    elif isinstance(ctx, P.ObservationExpressionCompoundContext):
        _walk(ctx.observationExpressions(), out)
    elif isinstance(
        ctx,
        P.ObservationExpressionWithinContext
        | P.ObservationExpressionStartStopContext
        | P.ObservationExpressionRepeatedContext,
    ):
        raise Unsupported("temporal qualifier (WITHIN / START-STOP / REPEATS)")
    elif isinstance(ctx, P.ComparisonExpressionContext):
        _either(ctx.comparisonExpression(), ctx.comparisonExpressionAnd, out)
    elif isinstance(ctx, P.ComparisonExpressionAndContext):
        if ctx.comparisonExpressionAnd():
            raise Unsupported("AND of comparisons")
        _walk(ctx.propTest(), out)
    elif isinstance(ctx, P.PropTestParenContext):
        _walk(ctx.comparisonExpression(), out)
    elif isinstance(ctx, P.PropTestEqualContext):
        _equal(ctx, out)
    elif isinstance(ctx, P.PropTestSetContext):
        if ctx.NOT() is not None:
            raise Unsupported("NOT IN")
        for literal in ctx.setLiteral().primitiveLiteral():
            _add_literal(ctx.objectPath(), literal, out)
    else:
        raise Unsupported(_construct(ctx))


def _either(subs: list[Any], single: Any, out: list[Term]) -> None:
    """An OR node: both sides when it has two, else its only child."""
    if subs:
        for sub in subs:
            _walk(sub, out)
    else:
        _walk(single(), out)


def _equal(ctx: Any, out: list[Term]) -> None:
    if ctx.NOT() is not None or ctx.NEQ() is not None:
        raise Unsupported("NOT / != comparison")
    _add_literal(ctx.objectPath(), ctx.primitiveLiteral(), out)


def _add_literal(path_ctx: Any, literal_ctx: Any, out: list[Term]) -> None:
    literal = literal_ctx.getText()
    if not (literal.startswith("'") and literal.endswith("'") and len(literal) >= 2):
        raise Unsupported("non-string literal")
    object_type, _, path = path_ctx.getText().partition(":")
    out.append(_term(object_type, path, _unescape(literal[1:-1])))


_CONSTRUCTS = {
    "PropTestRegexContext": "MATCHES",
    "PropTestLikeContext": "LIKE",
    "PropTestOrderContext": "ordering comparison",
    "PropTestIsSubsetContext": "ISSUBSET",
    "PropTestIsSupersetContext": "ISSUPERSET",
    "PropTestExistsContext": "EXISTS",
}


def _construct(ctx: Any) -> str:
    name = type(ctx).__name__
    return _CONSTRUCTS.get(name, name.removesuffix("Context"))
