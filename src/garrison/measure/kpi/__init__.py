"""KPIs of the alert pipeline: detection and response times, noise, detector quality.

``garrison kpi`` computes them from the SQLite state (every stored finding, incident,
disposition and workflow time) or from one hunt's output folder, optionally against
ground-truth labels, and renders a table, ``kpi.json`` and plots.
"""

from garrison.measure.kpi.data import KpiData, from_run, from_state
from garrison.measure.kpi.labels import LabelSet, load_labels
from garrison.measure.kpi.metrics import compute_kpis

__all__ = ["KpiData", "LabelSet", "compute_kpis", "from_run", "from_state", "load_labels"]
