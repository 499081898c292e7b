"""The demo configures ``ml.lookalike`` with the organisation's public domain, in memory
and in the demo home's garrison.toml (so the printed rerun sees it); a user's value wins."""

from __future__ import annotations

from pathlib import Path

from garrison.core.config import load_config
from garrison.demo.service import protect_organisation, write_home_config


def test_home_config_names_the_public_domain_and_loads(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_home_config(home, "brightwaterhealth.com")
    cfg = load_config(home)
    assert cfg.detectors.options["ml.lookalike"]["protected_domains"] == ["brightwaterhealth.com"]


def test_a_configured_value_is_kept(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text('[detectors."ml.lookalike"]\nprotected_domains = ["example.org"]\n')
    cfg = load_config(tmp_path / "home", config)
    protect_organisation(cfg, "brightwaterhealth.com")
    assert cfg.detectors.options["ml.lookalike"]["protected_domains"] == ["example.org"]
    bare = load_config(tmp_path / "empty-home")
    protect_organisation(bare, "brightwaterhealth.com")
    assert bare.detectors.options["ml.lookalike"]["protected_domains"] == ["brightwaterhealth.com"]
