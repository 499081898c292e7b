"""Evaluations of the network and identity ML detectors on the labelled corpus."""
