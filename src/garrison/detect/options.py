"""Detector options: each detector's ``[detectors."<id>"]`` table, typed and checked up front.

Every detector declares one options dataclass and registers it under its id::

    @DETECTOR_OPTIONS.register("ml.dga")
    @dataclass(slots=True, frozen=True)
    class DgaOptions: ...

``load_detector_options`` checks the whole ``[detectors]`` table when a hunt starts, before
any file is read: an id in ``disabled`` or a table naming no detector, an unknown key or a
wrongly typed value is an ``OptionsError`` (exit 2) naming the table, the key and the file.
The factories then get their typed options in ``DetectorContext.options``
(``options_of`` also accepts a plain mapping, for callers that build a context by hand).
"""

from __future__ import annotations

from typing import Any, TypeVar

from garrison.core.config import GarrisonConfig
from garrison.core.options import OptionsError, load_options, table_name
from garrison.core.plugins import Registry
from garrison.detect.base import DETECTORS, DetectorContext

T = TypeVar("T")

DETECTOR_OPTIONS: Registry[type[Any]] = Registry("detector options")


def detector_table(detector_id: str) -> str:
    """``detectors."ml.dga"``: the table a detector's options live in."""
    return table_name("detectors", detector_id)


def _id_of(cls: type[Any]) -> str:
    for name, registered in DETECTOR_OPTIONS.items():
        if registered is cls:
            return name
    raise TypeError(f"{cls.__name__} is not registered in DETECTOR_OPTIONS")


def options_of(ctx: DetectorContext, cls: type[T]) -> T:
    """The detector's typed options: as checked at hunt start, or loaded from a mapping."""
    if isinstance(ctx.options, cls):
        return ctx.options
    return load_options(cls, ctx.options, where=detector_table(_id_of(cls)))


def _unknown_id(name: str) -> str:
    return f"no detector named {name!r} (known: {', '.join(DETECTORS.names())})"


def detector_options(config: GarrisonConfig, detector_id: str) -> Any:
    """One detector's typed options from the configuration (its table checked)."""
    cls = DETECTOR_OPTIONS.get(detector_id)
    table = config.detectors.options.get(detector_id)
    return load_options(cls, table, where=detector_table(detector_id), file=config.path)


def load_detector_options(config: GarrisonConfig) -> dict[str, Any]:
    """Every registered detector's options, checked; raises ``OptionsError`` on a mistake."""
    file = config.path
    for name in config.detectors.disabled:
        if name not in DETECTORS:
            raise OptionsError("detectors", "disabled", _unknown_id(name), file)
    for name in config.detectors.options:
        if name not in DETECTORS:
            raise OptionsError(detector_table(name), "", _unknown_id(name), file)
    return {name: detector_options(config, name) for name in DETECTORS.names()}
