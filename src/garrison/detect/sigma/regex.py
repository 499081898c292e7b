"""Rule regexes and wildcard patterns run on RE2: time linear in the text, whatever the rule.

Python's ``re`` backtracks: ``CommandLine|re: '(a+)+$'`` against forty ``a`` and a ``b``
runs for minutes, and so does a wildcard value with several ``*`` against a long command
line. Every Sigma ``|re`` value and every wildcard pattern is therefore compiled with RE2
(PyPI ``google-re2``), which guarantees time linear in the input.

Semantics stay those of the reference (pySigma + SQLite with Python's ``re`` as REGEXP):
the pattern must first compile under Python's ``re`` (same errors as before), then it is
rewritten where the two dialects differ:

- ``\\d \\w \\s`` (and their negations) are Unicode classes in Python, ASCII in RE2: they
  become ``\\p{Nd}``, ``[\\p{L}\\p{N}_]`` and Python's exact whitespace set;
- Python's ``\\Z`` is RE2's ``\\z``; ``\\uXXXX``, ``\\UXXXXXXXX``, ``\\N{...}`` and octal
  escapes become ``\\x{...}``; ``[`` inside a class is escaped (RE2 reads ``[[:alpha:]]``
  as a POSIX class, Python as literal characters); ``(?#...)`` comments are dropped;
- Python's ``$`` also matches before a final newline, RE2's only at the very end: a
  pattern with ``$`` is also tried on the text without its final newline (the rest of
  the pattern cannot tell the difference: RE2 has no lookahead);
- the ``i``, ``m`` and ``s`` flags become RE2 inline flags.

What RE2 cannot express at all (backreferences, lookahead/lookbehind, conditionals, atomic
groups and possessive quantifiers, the ``x``/``a``/``L`` flags, ``$`` beside ``\\Z``) is
refused with a ``ConversionError`` naming the construct, so the rule is reported in
``rules_failed``. We refuse rather than fall back to Python's ``re`` with a time budget: a
budget makes detection depend on machine load and lets a crafted field silence a rule by
making it slow, while a refusal is visible and deterministic. None of the 218 regexes in
the SigmaHQ rule set needs the fallback.

One difference is accepted and documented: RE2's ``\\b`` / ``\\B`` word boundaries are
ASCII, so next to a non-ASCII letter they see a boundary where Python does not.
"""

from __future__ import annotations

import re
import string
import unicodedata
import warnings
from collections.abc import Callable

import re2
from re2 import _re2

from garrison.detect.sigma.convert import ConversionError

StrPred = Callable[[str], bool]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 otherwise prints every refused pattern on stderr
_OPTIONS.never_capture = True  # only "does it match" is asked: no submatch tracking
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_FULL = _re2.RE2.Anchor.ANCHOR_BOTH

_WORD = r"\p{L}\p{N}_"
_SPACE = r"\t-\r\x1c-\x1f\x85\p{Z}"  # str.isspace(), what Python's \s matches
_OUTSIDE = {
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "Z": r"\z",
}
_INSIDE = {"d": r"\p{Nd}", "D": r"\P{Nd}", "w": _WORD, "s": _SPACE, "b": r"\x08"}
_SIMPLE = set("afnrtvAbB")
_OCT = set("01234567")
_FLAG_GROUP = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])")
_REPEAT = re.compile(r"\{\d*(?:,\d*)?\}")


def _hex(ch: str) -> str:
    return f"\\x{{{ord(ch):x}}}"


class _Translator:
    """One pass over a pattern Python's ``re`` accepted, writing its RE2 equivalent."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        self.dollar = False
        self.end_string = False
        self.after_quantifier = False

    def run(self) -> str:
        p = self.p
        while self.i < len(p):
            ch = p[self.i]
            was_quantifier = self.after_quantifier
            self.after_quantifier = False
            if ch == "\\":
                self.out.append(self._escape(inside=False))
            elif ch == "[":
                self._charclass()
            elif ch == "(":
                self._group()
            elif ch == "+" and was_quantifier:
                raise ConversionError("possessive quantifiers need a backtracking engine")
            else:
                if ch == "$":
                    self.dollar = True
                elif ch in "*+?":
                    self.after_quantifier = True
                elif ch == "{":
                    self._brace()
                    continue
                self.out.append(ch)
                self.i += 1
        if self.dollar and self.end_string:
            raise ConversionError("'$' together with '\\Z' is not supported")
        return "".join(self.out)

    def _brace(self) -> None:
        m = _REPEAT.match(self.p, self.i)
        if m and m.group() != "{}":
            # Python reads {,n} as {0,n} and {,} as {0,}; RE2 would read them as text
            self.out.append(m.group().replace("{,", "{0,"))
            self.after_quantifier = True
            self.i = m.end()
        else:  # a literal brace in Python
            self.out.append(r"\{")
            self.i += 1

    def _escape(self, inside: bool) -> str:
        p = self.p
        c = p[self.i + 1]
        self.i += 2
        table = _INSIDE if inside else _OUTSIDE
        if c in table:
            if c == "Z":
                self.end_string = True
            return table[c]
        if inside and c in "WS":
            raise ConversionError(f"'\\{c}' inside a character class is not supported")
        if c in _SIMPLE:
            return "\\" + c
        if c == "x":
            code = int(p[self.i : self.i + 2], 16)
            self.i += 2
            return _hex(chr(code))
        if c in "uU":
            n = 4 if c == "u" else 8
            code = int(p[self.i : self.i + n], 16)
            self.i += n
            return _hex(chr(code))
        if c == "N":
            end = p.index("}", self.i)
            ch = unicodedata.lookup(p[self.i + 1 : end])
            self.i = end + 1
            return _hex(ch)
        if c in "0123":
            digits = c
            while len(digits) < 3 and self.i < len(p) and p[self.i] in _OCT:
                digits += p[self.i]
                self.i += 1
            if c == "0" or len(digits) == 3:
                return _hex(chr(int(digits, 8)))
        if c.isdigit():
            raise ConversionError("backreferences need a backtracking engine")
        if c in string.punctuation:
            return "\\" + c
        return _hex(c)  # an escaped space or non-ASCII character is itself

    def _charclass(self) -> None:
        p = self.p
        parts = ["["]
        self.i += 1
        if self.i < len(p) and p[self.i] == "^":
            parts.append("^")
            self.i += 1
        first = True
        while True:
            ch = p[self.i]
            if ch == "]" and not first:
                break
            first = False
            if ch == "\\":
                parts.append(self._escape(inside=True))
                continue
            parts.append("\\" + ch if ch in "[]" else ch)
            self.i += 1
        parts.append("]")
        self.i += 1
        self.out.append("".join(parts))

    def _group(self) -> None:
        p = self.p
        rest = p[self.i + 1 : self.i + 4]
        if not rest.startswith("?"):
            self.out.append("(")
            self.i += 1
            return
        if rest.startswith(("?=", "?!", "?<=", "?<!")):
            raise ConversionError("lookahead/lookbehind needs a backtracking engine")
        if rest.startswith("?P="):
            raise ConversionError("backreferences need a backtracking engine")
        if rest.startswith("?("):
            raise ConversionError("conditional groups need a backtracking engine")
        if rest.startswith("?>"):
            raise ConversionError("atomic groups need a backtracking engine")
        if rest.startswith("?#"):
            self.i = p.index(")", self.i) + 1
            return
        if rest.startswith(("?:", "?P<")):
            opener = "(?P<" if rest.startswith("?P<") else "(?:"
            self.out.append(opener)
            self.i += len(opener)
            return
        m = _FLAG_GROUP.match(p, self.i)
        if m is None:  # pragma: no cover - Python accepted the pattern
            raise ConversionError("unsupported group syntax")
        on, off = m.group(1), m.group(2) or ""
        if set(on + off) - set("ims"):
            raise ConversionError(f"regex flags {set(on + off) - set('ims')} are not supported")
        self.out.append(m.group())
        self.i = m.end()


def translate(pattern: str, flags: str = "") -> tuple[str, bool]:
    """The RE2 source of a Python pattern with Sigma flags (i, m, s), and whether the text
    must also be tried without a final newline (Python's ``$``)."""
    tr = _Translator(pattern)
    body = tr.run()
    prefix = f"(?{''.join(sorted(flags))})" if flags else ""
    return prefix + body, tr.dollar


def _compile_re2(source: str) -> _re2.RE2:
    try:
        regex = _re2.RE2(source.encode("utf-8"), _OPTIONS)
    except (_re2.Error, UnicodeEncodeError) as exc:
        raise ConversionError(f"RE2 cannot run it in linear time: {_reason(exc)}") from None
    if not regex.ok():  # e.g. nested repetitions past RE2's memory budget (8 MiB)
        raise ConversionError("RE2 cannot run it in linear time: pattern too large")
    return regex


def _reason(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return " ".join(text.split())[:200]


def compile_regex(pattern: str, flags: str = "") -> StrPred:
    """A search predicate for a Sigma ``|re`` value; ``ConversionError`` when it cannot be
    run safely (the message names the construct)."""
    value = 0
    for ch in flags:
        value |= {"i": re.I, "m": re.M, "s": re.S}[ch]
    try:
        with warnings.catch_warnings():  # "possible nested set": the rule's business
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern, value)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ConversionError(f"regular expression {pattern!r}: {exc}") from exc
    try:
        source, dollar = translate(pattern, flags)
    except ConversionError as exc:
        raise ConversionError(f"regular expression {pattern!r}: {exc}") from None
    except (ValueError, KeyError, IndexError) as exc:  # odd escapes Python took
        raise ConversionError(f"regular expression {pattern!r}: cannot translate ({exc})") from None
    try:
        regex = _compile_re2(source)
    except ConversionError as exc:
        raise ConversionError(f"regular expression {pattern!r}: {exc}") from None
    return _searcher(regex, dollar)


def _searcher(regex: _re2.RE2, dollar: bool) -> StrPred:
    match = regex.Match

    def search(text: str) -> bool:
        data = text.encode("utf-8", "surrogatepass")
        if match(_UNANCHORED, data, 0, len(data))[0][0] >= 0:
            return True
        # Python's '$' also matches just before a final newline
        if dollar and data.endswith(b"\n"):
            # a copy, not endpos: RE2 anchors '$' to the whole buffer, not to endpos
            cut = data[:-1]
            return match(_UNANCHORED, cut, 0, len(cut))[0][0] >= 0
        return False

    return search


def glob_literal(text: str) -> str:
    """A literal for a glob source, valid in both RE2 and Python syntax."""
    out = []
    for ch in text:
        if ch.isascii():
            if ch.isalnum() or ch == "_":
                out.append(ch)
            elif ch in string.punctuation:
                out.append("\\" + ch)
            else:
                out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def compile_globs(sources: list[str]) -> StrPred:
    """A full-match predicate over the alternation of glob sources (``.*`` / ``.`` /
    literals from ``glob_literal``), dot matching newlines."""
    regex = _compile_re2("(?s)" + "|".join(f"(?:{g})" for g in sources))
    match = regex.Match

    def fullmatch(text: str) -> bool:
        data = text.encode("utf-8", "surrogatepass")
        return match(_FULL, data, 0, len(data))[0][0] >= 0

    return fullmatch
