"""What the DNS detectors (``ml.dga``, ``ml.dns_tunnel``) find on each capture folder.

Each capture (e.g. a Stratosphere Zeek capture) goes through the real hunt pipeline with
only those two detectors, in memory, so the findings on benign captures are visible beside
those on malicious ones. ``garrison eval dns`` prints the table and writes the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def capture_report(folder: Path, home: Path) -> dict[str, Any]:
    """Run ``ml.dga`` and ``ml.dns_tunnel`` over one capture folder; summarise findings."""
    from garrison.core.config import GarrisonConfig
    from garrison.detect.ml.dga.detector import DgaDetector
    from garrison.detect.ml.dga.model import load_model
    from garrison.detect.ml.tunnel import DnsTunnelDetector
    from garrison.pipeline import HuntService
    from garrison.store import MemoryEventStore, StateDB

    dga = DgaDetector(load_model())
    tunnel = DnsTunnelDetector()
    service = HuntService(
        GarrisonConfig(home=home), MemoryEventStore(), StateDB.memory(), detectors=[dga, tunnel]
    )
    report = service.run([str(folder)])
    findings = [
        {
            "analytic": f.analytic_uid,
            "title": f.title,
            "confidence": f.confidence,
            "entities": [e.key() for e in f.entities][:8],
        }
        for f in report.findings
    ]
    return {
        "records_read": report.total().records_read,
        "dns_names_seen": dga.stats()["names_seen"],
        "dga": dga.stats(),
        "tunnel": tunnel.stats(),
        "findings": findings,
    }


def evaluate(data: Path, home: Path) -> dict[str, dict[str, Any]]:
    """Capture name -> ``capture_report`` for every sub-folder of ``data`` (or ``data``
    itself when it has none)."""
    captures = sorted(p for p in data.iterdir() if p.is_dir()) or [data]
    return {p.name: capture_report(p, home) for p in captures}
