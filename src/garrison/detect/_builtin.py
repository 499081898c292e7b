"""Imports every built-in detector module so each registers itself. One line per module."""

# ruff: noqa: F401
from garrison.detect.intel import detector as _intel
from garrison.detect.ml import anomaly as _ml_anomaly
from garrison.detect.ml import beacon as _ml_beacon
from garrison.detect.ml import egress as _ml_egress
from garrison.detect.ml import tunnel as _ml_dns_tunnel
from garrison.detect.ml import ueba as _ml_ueba
from garrison.detect.ml.dga import detector as _ml_dga
from garrison.detect.ml.lookalike import detector as _ml_lookalike
from garrison.detect.ml.url import detector as _ml_url
from garrison.detect.sigma import detector as _sigma
