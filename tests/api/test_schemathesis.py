"""schemathesis against the app's own OpenAPI document, bounded (a few examples per
operation; no per-example deadline: the first upload's hunt imports every detector, which on
a loaded 2-core machine took longer than any fixed deadline; speed is bench/bench_api.py's
business, and pytest's timeout still bounds the run), authenticated as an admin and as an
analyst (together they reach every permission that guards a write of findings, incidents,
playbooks, tokens): no 5xx, no status code, content type, header or body outside what the
document declares."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as oa_checks

from tests.api.conftest import Api, make_api

warnings.filterwarnings("ignore", category=DeprecationWarning)

ROLES = ("admin", "analyst")
CHECKS = [
    st_checks.not_a_server_error,
    oa_checks.status_code_conformance,
    oa_checks.content_type_conformance,
    oa_checks.response_headers_conformance,
    oa_checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Api:
    return make_api(Path(tmp_path_factory.mktemp("schemathesis")) / "home")


@pytest.fixture(scope="module")
def api_schema(served: Api) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi(
        "/openapi.json", served.client.app, headers=served.auth("admin")
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_to_its_openapi_document(case: schemathesis.Case, served: Api) -> None:
    for role in ROLES:
        case.call_and_validate(headers=served.auth(role), checks=CHECKS)
