"""Types shared by every stage: events, findings, incidents, errors, plugin tables."""
