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


def evasion_setup(target: Target) -> EvasionSetup:
    """The evasion setup of ``target.name`` (built once per target, see ``Target.part``)."""
    build = EVASION.get(target.name)
    if build is None:
        known = ", ".join(sorted(EVASION))
        raise UsageError(f"no evasion target for model {target.name!r} (known: {known})")
    return build(target)
