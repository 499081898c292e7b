"""Configuration: dataclasses loaded from ``garrison.toml`` (``--config`` or the home dir).

Example ``garrison.toml``::

    [hunt]
    batch_size = 5000
    rules = ["/opt/sigma/rules"]

    [detectors]
    disabled = ["ml.anomaly"]

    [detectors."ml.dga"]     # one table per detector id, its options dataclass's fields
    threshold = 0.9

    [ingest.evtx]            # one table per source format
    isolate = "always"

Every table is read by ``garrison.core.options.load_options``: an unknown table or key, a
wrong type or a value out of range is an ``OptionsError`` (exit 2) naming the table, the
key and the file. ``[hunt]`` and the shape of ``[detectors]`` are checked here; detector
ids and the detector, source, triage and correlation tables when a hunt starts
(``HuntService.check_config``), before the home is touched.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.core.options import OptionsError, check_option, load_options, option, table_name

#: The top-level tables of ``garrison.toml``: anything else is a mistake, reported before
#: any work. A stage that reads a new table adds its name here and loads it with
#: ``garrison.core.options.load_options``.
TABLES = (
    "hunt",
    "detectors",
    "ingest",
    "triage",
    "correlate",
    "respond",
    "privacy",
    "serve",
    "guard",
)


@dataclass(slots=True)
class HuntConfig:
    batch_size: int = option(5000, min=1)
    #: Events buffered before the lake writes them (one Parquet file per partition per flush).
    flush_events: int = 50_000
    rules: list[str] = field(default_factory=list)
    intel: list[str] = field(default_factory=list)
    assets: str | None = None
    #: A progress bar is shown when a run reads more than this many files.
    progress_min_files: int = 3
    #: Load Garrison's own Sigma rules (garrison/content/sigma) besides any --rules folders.
    bundled_rules: bool = True
    #: Seconds a hunt waits for another hunt writing to the same home before giving up
    #: (exit 2); negative waits without limit, 0 does not wait.
    lock_wait: float = 3600.0


@dataclass(slots=True)
class DetectorsConfig:
    """``[detectors]``: ``disabled`` ids, and one sub-table of options per detector
    (``[detectors."ml.dga"]``), checked against each detector's options dataclass when a
    hunt starts (``garrison.detect.options``)."""

    disabled: list[str] = field(default_factory=list)
    #: Per-detector options, keyed by detector id (each a table, as read).
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class GarrisonConfig:
    home: Path
    hunt: HuntConfig = field(default_factory=HuntConfig)
    detectors: DetectorsConfig = field(default_factory=DetectorsConfig)
    #: Per-source settings, ``[ingest.<format>]`` tables (e.g. ``[ingest.evtx] isolate =
    #: "always"`` for hostile EVTX); checked against the sources when a hunt starts.
    ingest: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    #: The file the configuration was read from (named in every error); None: defaults.
    path: Path | None = None


def resolve_home(home: str | Path | None) -> Path:
    """``--home``, else ``$GARRISON_HOME``, else ``~/.garrison``."""
    if home:
        return Path(home).expanduser()
    env = os.environ.get("GARRISON_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".garrison"


def _table(data: dict[str, Any], name: str, file: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise OptionsError(name, "", f"must be a table, got {type(value).__name__}", file)
    return value


def _detectors(data: dict[str, Any], file: Path) -> DetectorsConfig:
    """``disabled`` checked here; each detector's table when the detectors are known."""
    disabled = check_option(data.get("disabled", []), list[str], "detectors", "disabled", file)
    options: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if key == "disabled":
            continue
        if not isinstance(value, dict):
            raise OptionsError(
                "detectors",
                key,
                f"expected a table of the detector's options "
                f'([detectors."{key}"]), got {type(value).__name__}',
                file,
            )
        options[key] = value
    return DetectorsConfig(disabled=list(disabled), options=options)


def load_config(
    home: str | Path | None = None, config_file: str | Path | None = None
) -> GarrisonConfig:
    """Read the configuration; a missing default file is fine, a broken one is an error.

    ``[hunt]``, ``[detectors] disabled`` and the shape of every table are checked here;
    the detector, source, triage and correlation tables by their stages when a hunt starts.
    """
    home_path = resolve_home(home)
    path = Path(config_file) if config_file else home_path / "garrison.toml"
    data: dict[str, Any] = {}
    if config_file and not path.is_file():
        raise InputError(f"config file not found: {path}")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"config file {path} is not valid TOML: {exc}") from exc
    for name in data:
        if name not in TABLES:
            raise OptionsError(
                name, "", f"unknown table (known: {', '.join(sorted(TABLES))})", path
            )
    hunt = load_options(HuntConfig, _table(data, "hunt", path), where="hunt", file=path)
    detectors = _detectors(_table(data, "detectors", path), path)
    ingest = _table(data, "ingest", path)
    for name, table in ingest.items():
        if not isinstance(table, dict):
            raise OptionsError(table_name("ingest", name), "", "must be a table", path)
    return GarrisonConfig(
        home=home_path,
        hunt=hunt,
        detectors=detectors,
        ingest=ingest,
        raw=data,
        path=path if path.is_file() else None,
    )
