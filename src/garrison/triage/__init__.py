"""Triage: enrichment, risk scoring, explanations, noise control, feedback."""
