"""Signature detection with Sigma rules: pySigma parses, Garrison compiles and evaluates.

Modules: ``loader`` (files -> IR, cached by ``cache``), ``convert`` (pySigma -> IR),
``ruleset`` (IR -> engine rules, noise controls), ``logsource``/``fieldmap`` (data/*.yaml:
where events of a logsource are and what their fields are called), ``compile`` and
``modifiers`` (conditions and value semantics -> predicates), ``prefilter`` (candidate rules
per event), ``engine`` (buckets per source), ``correlation``, ``noise`` (grouping,
suppression) and ``detector`` (the registered ``sigma`` detector).
"""

from garrison.detect.sigma.detector import SigmaDetector, detector_from_yaml, load_detector

__all__ = ["SigmaDetector", "detector_from_yaml", "load_detector"]
