"""measure: KPIs of the alert pipeline (kpi) and evaluation of the detectors and models."""
