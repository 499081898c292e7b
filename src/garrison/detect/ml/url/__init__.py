"""Phishing-URL model: parsing, features, linear model, scoring, detector ``ml.url``."""
