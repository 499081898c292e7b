"""Per-model builders of what the attacks run against (``evasion_setup`` for evasion).

A builder is looked up by the target's model name; a model without one is a usage error
naming the models that have one.
"""

from __future__ import annotations

from collections.abc import Callable

from garrison.core.errors import UsageError
from garrison.measure.redteam.contract import Target
from garrison.measure.redteam.space import EvasionSetup


def _dga(target: Target) -> EvasionSetup:
    from garrison.measure.redteam.targets.dga import build

    return build(target)


def _url(target: Target) -> EvasionSetup:
    from garrison.measure.redteam.targets.url import build

    return build(target)


EVASION: dict[str, Callable[[Target], EvasionSetup]] = {"dga": _dga, "url": _url}
#: Models that can be red-teamed, and the corpus folder each one's target is built from.
CORPUS_PART = {"dga": "dga", "url": "phishing-urls"}


def corpus_part(name: str) -> str:
    """The corpus folder of model ``name``; a usage error naming the known models."""
    if name not in CORPUS_PART:
        known = ", ".join(sorted(CORPUS_PART))
        raise UsageError(f"no red-team target for model {name!r} (known: {known})")
    return CORPUS_PART[name]


def evasion_setup(target: Target) -> EvasionSetup:
    """The evasion setup of ``target.name`` (built once per target, see ``Target.part``)."""
    build = EVASION.get(target.name)
    if build is None:
        known = ", ".join(sorted(EVASION))
        raise UsageError(f"no evasion target for model {target.name!r} (known: {known})")
    return build(target)
