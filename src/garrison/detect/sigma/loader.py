"""Find rule files, parse them with pySigma (or take their IR from the cache), report failures.

Every file and every rule that cannot be used ends up in ``LoadResult.errors`` as
``"<file> (<title>)" -> reason``: a YAML error, a pySigma validation error, a value type the
engine does not evaluate, a duplicate rule id. Nothing fails silently.

Duplicate ids (see ``drop_duplicates``): findings, grouping and suppression are keyed by the
rule id, so two rules sharing one would rewrite each other's findings. The policy:

- the same file reached twice (a folder given twice, the bundled folder also given with
  ``--rules``) is loaded once, silently;
- a user's rule with the id of a bundled rule (``garrison/content/sigma``) replaces the
  bundled one: the user chose it; the replacement is noted in ``LoadResult.overridden``
  (summary.json, terminal), not counted as a failure;
- otherwise the first rule loaded keeps the id and every later one fails to load, its reason
  naming the first file (files load in the order given, each folder in sorted order).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from garrison.content import bundled_rules_dir
from garrison.core import safeyaml
from garrison.detect.sigma.cache import RuleCache, content_key
from garrison.detect.sigma.convert import (
    ConversionError,
    convert_correlation,
    convert_filter,
    convert_rule,
)

log = logging.getLogger(__name__)

RULE_SUFFIXES = (".yml", ".yaml")
#: Rule files larger than this are refused (a rule is a few KB; this bounds hostile input).
MAX_RULE_BYTES = safeyaml.MAX_BYTES


@dataclass(slots=True)
class RuleDoc:
    """One parsed rule, correlation or filter, in IR form, with the file it came from."""

    path: str
    ir: dict[str, Any]
    #: Found under Garrison's bundled rules folder (a user's rule with its id replaces it).
    bundled: bool = False

    @property
    def label(self) -> str:
        title = self.ir.get("title") or self.ir.get("id") or "?"
        return f"{self.path} ({title})"

    @property
    def uid(self) -> str:
        """What findings are keyed by: the id, else the name, else the title."""
        return str(self.ir.get("id") or self.ir.get("name") or self.ir.get("title") or "")


@dataclass(slots=True)
class LoadResult:
    docs: list[RuleDoc] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    files: int = 0
    cache_hits: int = 0
    #: bundled rule label -> why it is not used (a user's rule has its id)
    overridden: dict[str, str] = field(default_factory=dict)


def rule_files(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, root it was found under) for every .yml/.yaml below the given paths."""
    out: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    for root in paths:
        if root.is_file():
            found = [root]
        elif root.is_dir():
            found = [
                p
                for p in sorted(root.rglob("*"))
                if p.suffix.lower() in RULE_SUFFIXES and p.is_file()
            ]
        else:
            found = []
        for path in found:
            real = path.resolve()
            if real not in seen:  # the same file given twice is one rule file
                seen.add(real)
                out.append((path, root if root.is_dir() else root.parent))
    return out


def _is_bundled(root: Path) -> bool:
    try:
        return root.resolve() == bundled_rules_dir().resolve()
    except OSError:  # pragma: no cover
        return False


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def parse_rule_text(data: bytes) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """IR documents of one rule file and ``[title, reason]`` pairs for what failed."""
    errors: list[list[str]] = []
    try:
        # depth, size and alias limits checked before anything is composed (safeyaml)
        raw_docs = safeyaml.load_all(data, max_bytes=MAX_RULE_BYTES)
    except safeyaml.YamlError as exc:
        return [], [["", str(exc)]]
    if not raw_docs:
        return [], [["", "no rule in file"]]
    if not all(isinstance(d, dict) for d in raw_docs):
        return [], [["", "not a Sigma rule: a YAML document is not a mapping"]]
    try:
        collection = SigmaCollection.from_dicts(
            raw_docs, collect_errors=True, collect_filters=True, resolve_references=False
        )
    except Exception as exc:  # pySigma raises many types on malformed rules
        return [], [["", f"pySigma: {_one_line(exc)}"]]
    docs: list[dict[str, Any]] = []
    for item in [*collection.rules, *collection.filters]:
        title = str(getattr(item, "title", "") or "")
        if item.errors:
            errors.append([title, "; ".join(_one_line(e) for e in item.errors)])
            continue
        try:
            if isinstance(item, SigmaCorrelationRule):
                docs.append(convert_correlation(item))
            elif isinstance(item, SigmaRule):
                docs.append(convert_rule(item))
            else:
                docs.append(convert_filter(item))
        except ConversionError as exc:
            errors.append([title, str(exc)])
        except Exception as exc:
            errors.append([title, f"pySigma: {_one_line(exc)}"])
    if collection.errors and not docs and not errors:
        errors.append(["", "; ".join(_one_line(e) for e in collection.errors)])
    return docs, errors


def _one_line(exc: BaseException | object) -> str:
    text = " ".join(str(exc).split())
    return text[:500] or type(exc).__name__


def load_rules(paths: Iterable[Path], cache: RuleCache | None = None) -> LoadResult:
    """Every rule document under ``paths``; failures are collected, never raised."""
    cache = cache or RuleCache(None)
    result = LoadResult()
    bundled_roots: dict[Path, bool] = {}
    for path, root in rule_files(paths):
        shown = _display(path, root)
        if root not in bundled_roots:
            bundled_roots[root] = _is_bundled(root)
        result.files += 1
        try:
            if path.stat().st_size > MAX_RULE_BYTES:
                result.errors[shown] = f"rule file larger than {MAX_RULE_BYTES} bytes"
                continue
            data = path.read_bytes()
        except OSError as exc:
            result.errors[shown] = f"cannot read: {exc.strerror or exc}"
            continue
        key = content_key(data)
        entry = cache.get(key)
        if entry is not None:
            docs, errors = entry["docs"], entry["errors"]
            result.cache_hits += 1
        else:
            docs, errors = parse_rule_text(data)
            cache.put(key, docs, errors)
        for doc in docs:
            result.docs.append(RuleDoc(shown, doc, bundled_roots[root]))
        for title, reason in errors:
            result.errors[f"{shown} ({title})" if title else shown] = reason
    drop_duplicates(result)
    return result


def drop_duplicates(result: LoadResult) -> None:
    """Apply the duplicate-id policy (module docstring) to ``result.docs`` in place."""
    first: dict[str, int] = {}
    dropped: set[int] = set()
    for i, doc in enumerate(result.docs):
        uid = doc.uid
        if not uid:
            continue
        if uid not in first:
            first[uid] = i
            continue
        j = first[uid]
        kept = result.docs[j]
        if kept.bundled != doc.bundled:
            bundled, user = (j, i) if kept.bundled else (i, j)
            dropped.add(bundled)
            first[uid] = user
            result.overridden[result.docs[bundled].label] = (
                f"bundled rule replaced by {result.docs[user].path}, which has the same id {uid}"
            )
            continue
        dropped.add(i)
        result.errors[doc.label] = (
            f"duplicate rule id {uid}: already loaded from {kept.path}; "
            "ids must be unique (findings are keyed by them)"
        )
    if dropped:
        result.docs = [d for n, d in enumerate(result.docs) if n not in dropped]


def load_texts(texts: Iterable[tuple[str, str]]) -> LoadResult:
    """Rules given as (name, YAML text) pairs, parsed in memory (tests, the API)."""
    result = LoadResult()
    for name, text in texts:
        result.files += 1
        docs, errors = parse_rule_text(text.encode("utf-8"))
        result.docs.extend(RuleDoc(name, doc) for doc in docs)
        for title, reason in errors:
            result.errors[f"{name} ({title})" if title else name] = reason
    drop_duplicates(result)
    return result
