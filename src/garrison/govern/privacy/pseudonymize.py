"""Pseudonymization at ingestion: the configured OCSF fields of an event, and every other
occurrence of their values, replaced by the value's token before the event is stored or
detected on.

What is replaced, per event of a configured source:

* the value at each configured OCSF path (``actor.user.name`` ...), when it is text or a
  number and names someone: not a placeholder (``-``, ``unknown`` ...), not an account
  of ``keep`` (``root``, ``Administrator`` ...), not a machine account (``HOST$``);
* every occurrence of those values, as a whole word and in any case, in every other text
  of the OCSF object and of the flat ``fields`` (so ``TargetUserName``, an sshd
  ``message`` or a command line carrying the same name are covered too);
* the raw text is dropped (set to ""): it is the record as the source wrote it, with its
  own escaping (JSON ``\\u`` escapes, XML entities), so a name in it cannot be found and
  replaced reliably. The OCSF object and ``fields`` keep everything detection reads.

A single-word value (a login, an address) once known - seen at a configured path earlier in
the run, or in the vault from earlier runs - is also replaced wherever it appears later as
a whole word, even in events where it is not at a configured path (``New session 12 of
user deploy.``).

What is not: a value never seen at a configured path, a multi-word value outside the
events carrying it at a configured path, a known value that appears before its first
configured occurrence in the first run, and sources not configured. docs/privacy.md says
what that means for detection.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from garrison.core.events import Event, Quarantined
from garrison.core.paths import dig_parts
from garrison.govern.privacy.config import PrivacyConfig
from garrison.govern.privacy.keys import PrivacyKeys
from garrison.govern.privacy.match import Matcher, personal
from garrison.govern.privacy.token import canonical, is_token, pseudonym
from garrison.govern.privacy.vault import Vault

_MAX_DEPTH = 64
#: A single-word value: word characters, joined by ``.``, ``@`` or ``-`` (a login, an
#: address, a host name); such values, once known, are replaced wherever they appear.
_WORD = re.compile(r"\w+(?:[.@-]\w+)*")
_TOKEN_PART = re.compile(r"pn|[0-9a-f]{32}")
WITHHELD = "[withheld: pseudonymized source]"


class Pseudonymizer:
    """Replaces configured personal values by tokens; new tokens go to the vault."""

    def __init__(self, config: PrivacyConfig, keys: PrivacyKeys, vault: Vault | None) -> None:
        self.config = config
        self.keys = keys
        self.vault = vault
        self._paths: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._tokens: dict[str, str] = {}
        self._stored: set[str] = set()
        #: Single-word personal values known so far (case-folded): from the vault (earlier
        #: runs) and from configured paths of this run; replaced wherever they appear.
        self._words: set[str] = set()
        if vault is not None:
            self._learn(vault.values())
        #: Values replaced so far (events changed), for the hunt's figures.
        self.replaced = 0

    def _learn(self, values: Iterable[str]) -> None:
        for value in values:
            # never a part of a token's own text ("pn", 32 hex digits)
            if _WORD.fullmatch(value) and not _TOKEN_PART.fullmatch(value.casefold()):
                self._words.add(value.casefold())

    def _mentions_known(self, ev: Event) -> bool:
        """Whether any known word is in the event's text: one pattern pass over all of its
        text at once, instead of a rewrite of every value."""
        if not self._words:
            return False
        texts: list[str] = []
        _collect(ev.ocsf, texts, 0)
        _collect(ev.fields, texts, 0)
        words = self._words
        return any(w.casefold() in words for w in _WORD.findall("\n".join(texts)))

    def _known_words(self, text: str, swap: Callable[[str], str]) -> str:
        """``text`` with every known single-word value replaced (one pass, any number of
        known values: a dictionary lookup per word, not a pattern per value)."""
        if not self._words:
            return text
        words = self._words
        return _WORD.sub(lambda m: swap(m[0]) if m[0].casefold() in words else m[0], text)

    def token(self, value: str) -> str:
        key = canonical(value)
        known = self._tokens.get(key)
        if known is None:
            known = self._tokens[key] = pseudonym(self.keys.token_key, value)
        return known

    def paths(self, source: str) -> tuple[tuple[str, ...], ...]:
        known = self._paths.get(source)
        if known is None:
            known = self._paths[source] = tuple(
                tuple(p.split(".")) for p in self.config.paths_for(source)
            )
        return known

    def apply(self, events: Sequence[Event], source: str) -> list[Event]:
        """The events with personal values replaced (the same list when ``source`` has no
        configured field); the vault learns every new token before this returns."""
        paths = self.paths(source)
        if not paths:
            return list(events)
        fresh: dict[str, str] = {}
        keeps = self.config.keeps
        values = [
            [v for v in (_text_at(ev.ocsf, p) for p in paths) if v is not None and not keeps(v)]
            for ev in events
        ]
        self._learn(v for found in values for v in found)
        out = [
            self._event(ev, found, paths, fresh) for ev, found in zip(events, values, strict=True)
        ]
        if self.vault is not None and fresh:
            self.vault.put(fresh)
            self._stored.update(fresh)
        return out

    def quarantined(self, items: Sequence[Quarantined], source: str) -> list[Quarantined]:
        """Quarantine entries of a pseudonymized source without their excerpt (the record's
        text, unparsed, so its personal values cannot be found); position and reason stay."""
        if not self.paths(source):
            return list(items)
        return [dataclasses.replace(q, excerpt=WITHHELD) if q.excerpt else q for q in items]

    def _event(
        self,
        ev: Event,
        values: list[str],
        paths: tuple[tuple[str, ...], ...],
        fresh: dict[str, str],
    ) -> Event:
        matcher = Matcher(values)

        def swap(found: str) -> str:
            token = self.token(found)
            if token not in self._stored and token not in fresh:
                fresh[token] = found
            return token

        def scrub(text: str) -> str:
            return self._known_words(matcher.sub(text, swap), swap)

        if not matcher and not self._mentions_known(ev):
            return dataclasses.replace(ev, raw="")  # the common case: nothing to replace
        if matcher:
            self.replaced += 1
        ocsf = _replace(ev.ocsf, scrub, 0)
        for path in paths:  # a number at a configured path is personal too
            _set_number(ocsf, path, swap)
        fields = _replace(ev.fields, scrub, 0)
        return dataclasses.replace(ev, ocsf=ocsf, fields=fields, raw="")


def _text_at(ocsf: dict[str, Any], parts: tuple[str, ...]) -> str | None:
    value = dig_parts(ocsf, parts)
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = value if isinstance(value, str) else str(value)
    return text if personal(text) and not is_token(text) else None


def _set_number(ocsf: dict[str, Any], parts: tuple[str, ...], swap: Any) -> None:
    parent = dig_parts(ocsf, parts[:-1]) if len(parts) > 1 else ocsf
    if isinstance(parent, dict):
        value = parent.get(parts[-1])
        if isinstance(value, int | float) and not isinstance(value, bool):
            parent[parts[-1]] = swap(str(value))


def _collect(obj: Any, out: list[str], depth: int) -> None:
    """Every text value inside ``obj`` appended to ``out``."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for value in obj.values():
            _collect(value, out, depth + 1)
    elif isinstance(obj, list):
        for value in obj:
            _collect(value, out, depth + 1)


def _replace(obj: Any, scrub: Callable[[str], str], depth: int) -> Any:
    """A copy of ``obj`` with every text value scrubbed (keys are field names, kept: a
    person called ``user`` must not rename the ``user`` object)."""
    if depth > _MAX_DEPTH:
        return obj
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {k: _replace(v, scrub, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace(v, scrub, depth + 1) for v in obj]
    return obj
