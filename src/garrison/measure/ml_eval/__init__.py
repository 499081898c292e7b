"""Every detector evaluation on labelled data: ``<name>_eval.evaluate`` returns the report
that ``garrison eval <name>`` prints and writes to ``HOME/eval/<name>.json``; modules without
the suffix are shared helpers (see docs/architecture.md, "Evaluations")."""
