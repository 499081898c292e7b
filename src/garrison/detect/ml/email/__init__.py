"""Email model: P(message is spam or phishing) from its subject, body and a few generic headers."""
