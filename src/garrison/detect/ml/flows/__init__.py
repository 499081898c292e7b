"""Flow classification on KDD-style connection records (evaluated on NSL-KDD)."""
