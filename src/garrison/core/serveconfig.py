"""``[serve]`` in garrison.toml: how ``garrison serve`` listens, limits and signs in.

    [serve]
    host = "127.0.0.1"          # GARRISON_SERVE_HOST
    port = 8600                 # GARRISON_SERVE_PORT
    workers = 1                 # server processes (the API's CPU work runs one per core)
    max_body = 1048576          # bytes; a larger request body is refused with 413
    max_ingest = 67108864       # bytes of one upload to POST /api/ingest
    session_ttl = "12h"         # how long a console sign-in lasts
    secure_cookies = "auto"     # auto: Secure unless bound to a loopback address
    playbooks = []              # folders GET /api/playbooks lists (default: the shipped ones)

Every key may be overridden by an environment variable ``GARRISON_SERVE_<KEY>`` (upper
case); the override is checked by the same options loader as the file, so a bad value in
either is the same one-line error naming the table and the key.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.options import OptionsError, fields_of, load_options, option

ENV_PREFIX = "GARRISON_SERVE_"
_UNITS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _duration_ms(text: str) -> int:
    """``90s``, ``30m``, ``12h``, ``7d`` -> milliseconds (1 second to 30 days)."""
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not number.isdigit():
        raise ValueError(f"expected a number and s, m, h or d (e.g. 12h), got {text[:40]!r}")
    ms = int(number) * _UNITS[unit]
    if not 1_000 <= ms <= 30 * 86_400_000:
        raise ValueError("must be between 1s and 30d")
    return ms


@dataclass(slots=True)
class ServeConfig:
    host: str = option("127.0.0.1", nonempty=True)
    port: int = option(8600, min=1, max=65535)
    #: Server processes. One Python process runs the API's request handling on one core at
    #: a time; ``workers = 2`` on two cores roughly doubles read throughput under many
    #: clients (bench/bench_api.py). Sessions, sign-in throttling and the metrics are shared
    #: through the home, so any worker may serve any request.
    workers: int = option(1, min=1, max=64)
    #: Largest request body accepted, in bytes (413 beyond).
    max_body: int = option(1_048_576, min=1024, max=256 * 1_048_576)
    #: Bytes of one upload to ``POST /api/ingest`` (held in memory, then spooled).
    max_ingest: int = option(64 * 1_048_576, min=1024, max=1024 * 1_048_576)
    #: Console sign-in lifetime (``12h``), stored as milliseconds.
    session_ttl_ms: int = option(43_200_000, key="session_ttl", accepts=str, convert=_duration_ms)
    #: ``auto``: cookies are Secure unless the server is bound to a loopback address (plain
    #: http on loopback is the only place a browser would otherwise drop them).
    secure_cookies: str = option("auto", choices=("auto", "always", "never"))
    playbooks: list[str] = field(default_factory=list)

    def cookies_secure(self) -> bool:
        if self.secure_cookies != "auto":
            return self.secure_cookies == "always"
        return not is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env_table(env: Mapping[str, str]) -> dict[str, Any]:
    """``GARRISON_SERVE_*`` variables as TOML values of ``[serve]`` (a number stays a
    number, a list is written as a TOML array, anything else is a string)."""
    keys = {f.key for f in fields_of(ServeConfig)}
    out: dict[str, Any] = {}
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in keys:
            raise OptionsError("serve", key, f"unknown setting (from ${name})", "environment")
        try:
            out[key] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text
    return out


def load_serve_config(
    raw: Mapping[str, Any], file: Path | None = None, env: Mapping[str, str] | None = None
) -> ServeConfig:
    """``[serve]`` of a parsed garrison.toml with the environment's overrides, checked."""
    table = raw.get("serve")
    if table is not None and not isinstance(table, dict):
        raise OptionsError("serve", "", "must be a table", file)
    merged = dict(table or {})
    overrides = _env_table(os.environ if env is None else env)
    if overrides:
        load_options(ServeConfig, overrides, where="serve", file="environment")
        merged.update(overrides)
    return load_options(ServeConfig, merged, where="serve", file=file)
