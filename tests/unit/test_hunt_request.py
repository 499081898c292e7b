"""``HuntService.for_request``: the one place rules, intel and assets from garrison.toml and
from an interface's request are merged (the CLI and the demo both hunt through it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.config import DetectorsConfig, GarrisonConfig, HuntConfig
from garrison.core.errors import GarrisonError, UsageError
from garrison.pipeline import HuntRequest, HuntService


def _config(home: Path, **hunt: object) -> GarrisonConfig:
    return GarrisonConfig(home=home, hunt=HuntConfig(bundled_rules=False, **hunt))  # type: ignore[arg-type]


def test_request_adds_to_the_configured_rules_and_intel(tmp_path, home):
    conf_rules, req_rules = tmp_path / "conf-rules", tmp_path / "req-rules"
    conf_rules.mkdir()
    req_rules.mkdir()
    conf_intel, req_intel = tmp_path / "conf.txt", tmp_path / "req.txt"
    conf_intel.write_text("evil.example\n")
    req_intel.write_text("bad.example\n")
    cfg = _config(home, rules=[str(conf_rules)], intel=[str(conf_intel)])
    service = HuntService.for_request(cfg, HuntRequest(rules=[req_rules], intel=[req_intel]))
    assert service.rules_dirs == [conf_rules, req_rules]
    assert service.intel_files == [conf_intel, req_intel]


def test_request_assets_replace_the_configured_inventory(tmp_path, home, monkeypatch):
    seen: list[Path | None] = []
    real_open = HuntService.open.__func__  # type: ignore[attr-defined]

    def spy(cls, config, rules_dirs=(), intel_files=(), assets=None):
        seen.append(assets)
        return real_open(cls, config, rules_dirs, intel_files, assets)

    monkeypatch.setattr(HuntService, "open", classmethod(spy))
    configured, given = tmp_path / "conf.csv", tmp_path / "given.csv"
    for path in (configured, given):
        path.write_text("host,criticality\nws1,high\n")
    cfg = _config(home, assets=str(configured))
    HuntService.for_request(cfg, HuntRequest())
    HuntService.for_request(cfg, HuntRequest(assets=given))
    assert seen == [configured, given]


def test_bad_requests_are_usage_errors_before_any_work(tmp_path, home):
    cfg = _config(home)
    with pytest.raises(UsageError, match="no such file or directory"):
        HuntService.for_request(cfg, HuntRequest(rules=[tmp_path / "missing"]))
    with pytest.raises(UsageError, match="no such file or directory"):
        HuntService.for_request(_config(home, rules=[str(tmp_path / "gone")]), HuntRequest())
    with pytest.raises(UsageError, match="must be 'embedded' or 'spark'"):
        HuntService.for_request(cfg, HuntRequest(engine="hadoop"))
    with pytest.raises(UsageError, match="spark engine is not available"):
        HuntService.for_request(cfg, HuntRequest(engine="spark"))
    assert not (home / "state.db").exists()


def test_config_is_checked_before_any_folder_is_made_then_out_is_excluded(tmp_path, home):
    bad = GarrisonConfig(
        home=home,
        hunt=HuntConfig(bundled_rules=False),
        detectors=DetectorsConfig(options={"ml.beacon": {"threshhold": 0.9}}),
    )
    out = tmp_path / "out"
    with pytest.raises(GarrisonError, match="threshhold"):
        HuntService.for_request(bad, HuntRequest(inputs=[str(tmp_path)], out=out))
    assert not out.exists() and not (home / "state.db").exists()
    service = HuntService.for_request(_config(home), HuntRequest(inputs=[str(tmp_path)], out=out))
    # the checks create nothing (the results are written at the end); --out is left out
    assert not out.exists() and out.resolve() in service.exclude
