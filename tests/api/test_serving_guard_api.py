"""``POST /api/models/{name}/score`` through the serving guard: answers coarsened for the
principal, a client past its burst gets 429 with Retry-After, another client does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from garrison.measure.serving import forget_guards, guard_for
from tests.api.conftest import Api, make_api

URL = "/api/models/dga/score"


@pytest.fixture()
def limited(tmp_path: Path) -> Iterator[Api]:
    forget_guards()
    home = tmp_path / "home"
    home.mkdir()
    (home / "garrison.toml").write_text(
        '[guard]\nburst = 3\nrate = 0.01\n[guard.roles.viewer]\ncoarsen = "label"\n', "utf-8"
    )
    yield make_api(home)
    forget_guards()


def test_answers_are_coarsened_per_role(limited: Api) -> None:
    analyst = limited.client.post(
        URL, json={"lines": ["google.com"]}, headers=limited.auth("analyst")
    )
    assert analyst.status_code == 200
    (row,) = analyst.json()
    assert row["explanation"]["coarsened"] == "round" and row["score"] == round(row["score"], 2)
    viewer = limited.client.post(
        URL, json={"lines": ["google.com"]}, headers=limited.auth("viewer")
    )
    assert viewer.json()[0]["score"] is None and viewer.json()[0]["verdict"] == "benign"


def test_past_the_burst_a_client_gets_429_with_retry_after(limited: Api) -> None:
    headers = limited.auth("analyst")
    assert (
        limited.client.post(URL, json={"lines": ["a.com", "b.com"]}, headers=headers).status_code
        == 200
    )
    refused = limited.client.post(URL, json={"lines": ["c.com", "d.com"]}, headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "rate limit" in refused.json()["error"]
    other = limited.client.post(URL, json={"lines": ["c.com"]}, headers=limited.auth("viewer"))
    assert other.status_code == 200
    log = guard_for(limited.home).log
    clients = [r[0] for r in log.db.query("SELECT client FROM guard_queries ORDER BY seq")]
    assert clients == ["u-analyst", "u-analyst", "u-viewer"]
