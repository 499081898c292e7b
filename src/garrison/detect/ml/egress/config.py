"""Options of ``ml.egress`` (``[detectors."ml.egress"]`` in garrison.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class EgressConfig:
    """Options (``[detectors."ml.egress"]`` in garrison.toml); sizes in bytes."""

    min_bytes: int = 20_000_000
    min_ratio: float = 10.0
    floor_bytes: int = 1_000_000
    min_pcr: float = 0.5
    max_clients: int = 3
    min_history_days: int = 2
    history_days: int = 30
    min_peer_sources: int = 5
    peer_quantile: float = 0.95
    #: Addresses or networks never reported (an off-site backup service, say).
    allow: list[str] = field(default_factory=list)
    max_buckets: int = 1_000_000
    max_destinations: int = 2_000_000
    max_evidence: int = 10
    max_findings: int = 100
    retention_days: int = 90
