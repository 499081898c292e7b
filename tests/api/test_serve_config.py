"""``[serve]``: defaults, the file, ``GARRISON_SERVE_*`` overrides over the file, each
checked by the one options loader; and the CLI keeps acting through ``cli_principal``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.core.options import OptionsError
from garrison.core.serveconfig import ServeConfig, load_serve_config
from garrison.govern.access import UserStore
from garrison.interfaces.cli.app import app
from garrison.store.state import StateDB


def test_defaults_file_and_environment() -> None:
    assert load_serve_config({}, env={}) == ServeConfig()
    raw = {"serve": {"port": 9000, "session_ttl": "30m", "secure_cookies": "always"}}
    cfg = load_serve_config(raw, env={"GARRISON_SERVE_PORT": "9100"})
    assert (cfg.port, cfg.session_ttl_ms, cfg.cookies_secure()) == (9100, 1_800_000, True)
    cfg = load_serve_config({}, env={"GARRISON_SERVE_PLAYBOOKS": '["/srv/pb"]'})
    assert cfg.playbooks == ["/srv/pb"]
    assert ServeConfig(host="::1").cookies_secure() is False
    assert ServeConfig(host="10.0.0.5").cookies_secure() is True


@pytest.mark.parametrize(
    ("raw", "env", "words"),
    [
        ({"serve": {"port": 0}}, {}, "[serve] port"),
        ({"serve": {"session_ttl": "forever"}}, {}, "[serve] session_ttl"),
        ({"serve": {"secure_cookies": "maybe"}}, {}, "[serve] secure_cookies"),
        ({"serve": "x"}, {}, "[serve]"),
        ({}, {"GARRISON_SERVE_HOSTNAME": "x"}, "[serve] hostname"),
        ({}, {"GARRISON_SERVE_MAX_BODY": "12"}, "[serve] max_body"),
    ],
)
def test_bad_settings_name_the_key(raw: dict, env: dict, words: str) -> None:
    with pytest.raises(OptionsError) as caught:
        load_serve_config(raw, env=env)
    assert words in str(caught.value)


def test_the_triage_cli_acts_as_the_os_accounts_registered_user(tmp_path: Path) -> None:
    home = tmp_path / "home"
    runner = CliRunner()
    solo = runner.invoke(app, ["findings", "list", "--home", str(home)])
    assert solo.exit_code == 0, solo.output  # single-operator home: the owner has every role
    UserStore(StateDB(home / "state.db")).add_user("someone-else", ["admin"])
    refused = runner.invoke(app, ["findings", "list", "--home", str(home)])
    assert refused.exit_code != 0 and "garrison users add" in str(refused.exception)
