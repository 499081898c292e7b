"""Correlation: findings grouped into incidents along the ATT&CK kill chain."""
