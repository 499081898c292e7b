"""``[guard]`` in garrison.toml: the serving guard's limits, coarsening and extraction test.

    [guard]
    enabled = true
    rate = 20.0            # queries (scored lines) per second a client's bucket refills
    burst = 2000           # the bucket's size: the most lines one client may send at once
    daily_quota = 100000   # lines per client per UTC day
    coarsen = "round"      # "full" | "round" (scores rounded to `decimals`) | "label"
    decimals = 2
    log_inputs = false     # the query log keeps a digest of each input, not the input
    local_limits = false   # limit and coarsen `garrison score` (the OS account) too

    [guard.extraction]
    min_queries = 100      # distinct queries a client makes before it is tested
    models = ["dga"]       # the models whose query streams are tested
    prada_high = 0.95      # Shapiro-Wilk W outside [prada_low, prada_high]: extraction-like
    coverage_max = 0.5     # share of queries outside the benign range on 3+ features
    on_flag = "coarsen"    # "log" | "coarsen" | "throttle" | "block"

    [guard.roles.viewer]   # per role, then per client (the client wins): any of the keys
    coarsen = "label"      #   rate, burst, daily_quota, coarsen, decimals
    [guard.clients.soc-bot]
    daily_quota = 1000000

Why limits are counted in lines and not requests: a model is stolen one answer at a time,
and one request may carry up to 1,000 lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from garrison.core.options import OptionsError, load_options, option

Coarsening = Literal["full", "round", "label"]
OnFlag = Literal["log", "coarsen", "throttle", "block"]


@dataclass(slots=True)
class Override:
    """A role's or a client's own limits and coarsening (absent keys: the table's)."""

    rate: float | None = option(None, min=0.001)
    burst: int | None = option(None, min=1)
    daily_quota: int | None = option(None, min=1)
    coarsen: Coarsening | None = None
    decimals: int | None = option(None, min=0, max=6)


@dataclass(slots=True)
class ExtractionConfig:
    """The extraction test (``garrison.govern.serving.extraction``); figures in
    docs/serving-guard.md, measured by ``bench/bench_extraction.py``."""

    enabled: bool = True
    #: Distinct queries (repeats are not counted: they teach a thief nothing) before a
    #: client's stream is tested at all.
    min_queries: int = option(100, min=20, max=100_000)
    #: The test looks at the last ``window`` minimum distances.
    window: int = option(400, min=20, max=100_000)
    #: The models whose streams are tested (the band below is calibrated on DGA traffic).
    models: list[str] = field(default_factory=lambda: ["dga"])
    #: Shapiro-Wilk W of the minimum-distance distribution outside [prada_low, prada_high]:
    #: extraction-like. PRADA flags a low W; in the DGA feature space natural name streams
    #: already give W 0.2-0.9 and synthetic vectors 0.95+, so the default band flags the
    #: high side only (docs/serving-guard.md has the measurements).
    prada_low: float = option(0.0, min=0.0, max=1.0)
    prada_high: float = option(0.95, min=0.0, max=1.0)
    #: Share of a client's distinct queries that fall in feature-space cells benign traffic
    #: does not reach (outside the model's benign range by ``margin`` in ``min_dims``
    #: features at once); above this: extraction-like.
    coverage_max: float = option(0.5, min=0.0, max=1.0)
    margin: float = option(0.5, min=0.0)
    min_dims: int = option(3, min=1)
    #: Test every this many distinct queries (Shapiro-Wilk costs O(n log n)).
    check_every: int = option(10, min=1)
    #: What happens once a client is flagged (a finding is raised in every case):
    #: ``log`` nothing more, ``coarsen`` answers become labels only, ``throttle`` its rate
    #: and burst are divided by ``throttle_factor``, ``block`` its queries are refused.
    on_flag: OnFlag = "coarsen"
    throttle_factor: float = option(10.0, min=1.0)
    #: Growing-set vectors kept per client and model (bounded memory).
    max_history: int = option(4000, min=100, max=1_000_000)

    def __post_init__(self) -> None:
        if self.prada_low > self.prada_high:
            raise ValueError(
                f"prada_low ({self.prada_low}) must not be above prada_high ({self.prada_high})"
            )


@dataclass(slots=True)
class GuardConfig:
    enabled: bool = True
    rate: float = option(20.0, min=0.001)
    burst: int = option(2000, min=1)
    daily_quota: int = option(100_000, min=1)
    coarsen: Coarsening = "round"
    decimals: int = option(2, min=0, max=6)
    log_inputs: bool = False
    #: Whether the command line's OS account is rate-limited, quota'd and coarsened like
    #: an API client. Off by default: that account can read the model files themselves,
    #: so limits would hide nothing from it. Its queries are logged and tested either way.
    local_limits: bool = False
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    roles: dict[str, Override] = field(default_factory=dict)
    clients: dict[str, Override] = field(default_factory=dict)

    def limits_for(self, client: str, roles: Iterable[str] = ()) -> Limits:
        """The limits and coarsening of ``client`` holding ``roles``: the table's, then
        each role's (the most generous of several roles), then the client's own."""
        base = Limits(self.rate, self.burst, self.daily_quota, self.coarsen, self.decimals)
        mine = [self.roles[r] for r in sorted(roles) if r in self.roles]
        if mine:
            base = _most_generous([_apply(base, o) for o in mine])
        own = self.clients.get(client)
        return _apply(base, own) if own is not None else base


@dataclass(frozen=True, slots=True)
class Limits:
    rate: float
    burst: int
    daily_quota: int
    coarsen: Coarsening
    decimals: int


_DETAIL = {"label": 0, "round": 1, "full": 2}


def _apply(base: Limits, over: Override) -> Limits:
    changes = {f.name: getattr(over, f.name) for f in fields(over)}
    return replace(base, **{k: v for k, v in changes.items() if v is not None})


def _most_generous(options: list[Limits]) -> Limits:
    best_detail = max(options, key=lambda lim: (_DETAIL[lim.coarsen], lim.decimals))
    return Limits(
        rate=max(o.rate for o in options),
        burst=max(o.burst for o in options),
        daily_quota=max(o.daily_quota for o in options),
        coarsen=best_detail.coarsen,
        decimals=best_detail.decimals,
    )


def load_guard_config(raw: Mapping[str, Any], file: Path | None = None) -> GuardConfig:
    """``[guard]`` of a parsed garrison.toml, checked (an ``OptionsError`` names the key)."""
    table = raw.get("guard")
    if table is not None and not isinstance(table, dict):
        raise OptionsError("guard", "", "must be a table", file)
    return load_options(GuardConfig, table, where="guard", file=file)


__all__ = ["ExtractionConfig", "GuardConfig", "Limits", "Override", "load_guard_config"]
