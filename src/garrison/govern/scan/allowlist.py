"""The allowlist of globals a model file may name (``allowlist.yml``, data not code).

An allowlist, not a denylist: a denylist has to guess every way to reach code
(``importlib``, ``marshal`` + ``types.FunctionType``, ``operator.methodcaller``,
``functools.partial``, ``getattr`` chains...) and misses the next one; an allowlist names
the few constructors a model needs and flags everything else, the unknown included.
Matching is exact on (module, name) after pickle's own Python 2 name mapping: no prefixes,
no dotted attribute paths (``numpy.dtype.__init__`` is not ``numpy.dtype``).
"""

from __future__ import annotations

import _compat_pickle
import importlib.resources
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import yaml


@dataclass(frozen=True, slots=True)
class Allowlist:
    """A set of (module, name) pairs; ``extend`` gives a new, larger one."""

    names: frozenset[tuple[str, str]]

    def allows(self, module: str, name: str) -> bool:
        return canonical(module, name) in self.names

    def extend(self, pairs: Iterable[tuple[str, str]]) -> Allowlist:
        return Allowlist(self.names | frozenset(pairs))

    def extend_dotted(self, dotted: Iterable[str]) -> Allowlist:
        """Add ``module.Name`` strings (a skops trusted-type list) as (module, name)."""
        return self.extend(tuple(d.rsplit(".", 1)) for d in dotted if "." in d)  # type: ignore[misc]


def canonical(module: str, name: str) -> tuple[str, str]:
    """The (module, name) pickle's loader looks up for a protocol 0-2 pair (py2 names)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _pairs(groups: Mapping[str, Mapping[str, list[str]]]) -> Iterable[tuple[str, str]]:
    for modules in groups.values():
        for module, names in modules.items():
            for name in names:
                yield str(module), str(name)


@cache
def default_allowlist() -> Allowlist:
    """The shipped allowlist (read once)."""
    text = importlib.resources.files(__package__).joinpath("allowlist.yml").read_text("utf-8")
    return Allowlist(frozenset(_pairs(yaml.safe_load(text))))
