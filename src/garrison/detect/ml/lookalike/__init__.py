"""``ml.lookalike``: domains that imitate the organisation's own or well-known brands."""
