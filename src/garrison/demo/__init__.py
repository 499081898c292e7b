"""``garrison demo``: a labelled, realistic data set with an embedded intrusion, and its hunt.

``generate`` writes benign background telemetry (Linux auth.log, Zeek conn/dns, Windows
events as JSON lines) for a simulated organisation with a multi-stage intrusion woven in,
plus ``labels.json`` naming every malicious record; ``run_demo`` also hunts through it and
``evaluate`` scores any hunt output against the labels.
"""

from garrison.demo.evaluate import DemoEvaluation, evaluate
from garrison.demo.labels import Labels, load_labels
from garrison.demo.service import DemoOptions, DemoResult, generate, run_demo

__all__ = [
    "DemoEvaluation",
    "DemoOptions",
    "DemoResult",
    "Labels",
    "evaluate",
    "generate",
    "load_labels",
    "run_demo",
]
