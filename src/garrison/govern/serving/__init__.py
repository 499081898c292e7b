"""The serving guard around model scoring (issue 13, item 4), free of HTTP and of models.

* ``GuardConfig`` / ``load_guard_config``: the ``[guard]`` table (limits, coarsening per
  role and client, the extraction test);
* ``ServingGuard``: admit (quotas, token buckets), record (the append-only query log, the
  extraction test, a ``guard.extraction`` finding when a client is flagged), coarsen;
* ``StreamMonitor`` / ``FeatureSpace``: the PRADA and coverage tests on feature vectors.

``garrison.measure.serving`` puts it around ``ModelService.score``; docs/serving-guard.md.
"""

from garrison.govern.serving.config import GuardConfig, Limits, load_guard_config
from garrison.govern.serving.extraction import FeatureSpace, StreamMonitor, Verdict
from garrison.govern.serving.guard import Client, ServingGuard
from garrison.govern.serving.limits import Blocked, QuotaExceeded, RateLimited
from garrison.govern.serving.querylog import Query, QueryLog

__all__ = [
    "Blocked",
    "Client",
    "FeatureSpace",
    "GuardConfig",
    "Limits",
    "Query",
    "QueryLog",
    "QuotaExceeded",
    "RateLimited",
    "ServingGuard",
    "StreamMonitor",
    "Verdict",
    "load_guard_config",
]
