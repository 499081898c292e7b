"""Machine-learning detectors: DGA, tunnelling, beaconing, identity analytics, anomaly."""
