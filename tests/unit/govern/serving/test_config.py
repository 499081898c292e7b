"""``[guard]``: checked by the one options loader, accepted by garrison.toml, with roles'
and clients' own limits and coarsening."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.config import load_config
from garrison.core.options import OptionsError
from garrison.govern.serving.config import load_guard_config


def test_defaults_limit_and_round() -> None:
    cfg = load_guard_config({})
    limits = cfg.limits_for("ann")
    assert (limits.coarsen, limits.decimals, limits.burst) == ("round", 2, 2000)
    assert cfg.extraction.models == ["dga"]


def test_roles_then_the_client_override_the_table() -> None:
    cfg = load_guard_config(
        {
            "guard": {
                "coarsen": "label",
                "roles": {"analyst": {"coarsen": "round", "decimals": 3}, "viewer": {}},
                "clients": {"bot": {"daily_quota": 5, "coarsen": "full"}},
            }
        }
    )
    assert cfg.limits_for("eve").coarsen == "label"
    assert cfg.limits_for("eve", {"viewer"}).coarsen == "label"
    analyst = cfg.limits_for("ann", {"analyst", "viewer"})  # the most generous role wins
    assert (analyst.coarsen, analyst.decimals) == ("round", 3)
    bot = cfg.limits_for("bot", {"viewer"})
    assert (bot.coarsen, bot.daily_quota) == ("full", 5)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"burts": 5}, "did you mean 'burst'"),
        ({"coarsen": "blur"}, "'blur' is not one of"),
        ({"decimals": 9}, "above the maximum"),
        ({"extraction": {"on_flag": "shout"}}, "on_flag"),
        ({"clients": {"bot": {"rate": 0}}}, "below the minimum"),
        ({"extraction": {"prada_low": 0.9, "prada_high": 0.5}}, "must not be above"),
    ],
)
def test_a_mistake_is_one_error_naming_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        load_guard_config({"guard": table})


def test_garrison_toml_takes_a_guard_table(tmp_path: Path) -> None:
    (tmp_path / "garrison.toml").write_text("[guard]\nburst = 7\n", encoding="utf-8")
    config = load_config(tmp_path)
    assert load_guard_config(config.raw, config.path).burst == 7
