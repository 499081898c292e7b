"""The attack registry is data: entries are checked, factories stay inside the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.errors import InputError, UsageError
from garrison.measure.redteam.registry import entries, parse, select

PKG = "garrison.measure.redteam"
GOOD = """
attacks:
  - {name: a, kind: evasion, factory: "garrison.measure.redteam.evasion:zoo"}
  - {name: b, kind: poisoning, factory: "garrison.measure.redteam.poison:flip"}
"""


def test_shipped_registry_builds_every_attack_with_its_declared_name_and_kind() -> None:
    shipped = entries()
    assert {e.name for e in shipped} >= {
        "hop_skip_jump", "zoo", "decision_tree", "knockoff_nets", "copycat_cnn",
        "label_flip_random", "label_flip_targeted", "backdoor",
    }  # fmt: skip
    assert [e.name for e in select("extraction")] == [
        "knockoff_nets", "copycat_cnn", "knockoff_nets_natural",
    ]  # fmt: skip
    assert {e.kind for e in select("poisoning,zoo")} == {"poisoning", "evasion"}
    for entry in shipped:
        attack = entry.build()
        assert (attack.name, attack.kind) == (entry.name, entry.kind)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("attacks: {}", "needs an 'attacks' list"),
        ("attacks: [{name: a, kind: theft, factory: 'garrison.measure.redteam.x:y'}]", "kind"),
        ("attacks: [{name: a, kind: evasion, factory: 'os:system'}]", "factory must be"),
        ("attacks: [{name: a, kind: evasion, factory: 'garrison.measure.redteamx:y'}]", "factory"),
        ("attacks: [{name: a, kind: evasion, factory: 'garrison.measure.redteam.e'}]", "factory"),
        (GOOD + f"  - {{name: a, kind: evasion, factory: '{PKG}.e:f'}}", "repeated"),
        (f"attacks: [{{name: a, kind: evasion, factory: '{PKG}.e:f', x: 1}}]", "unknown"),
        ("attacks: [!!python/object:os.system {}]", "attack registry"),
    ],
)  # fmt: skip
def test_bad_registry_entries_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        parse(text)


def test_selection_by_name_and_kind_in_registry_order() -> None:
    table = parse(GOOD)
    assert [e.name for e in select("poisoning,a", table)] == ["a", "b"]
    assert [e.name for e in select(None, table)] == ["a", "b"]
    assert [e.name for e in select("evasion", table)] == ["a"]
    with pytest.raises(UsageError, match="unknown nope"):
        select("a,nope", table)
    with pytest.raises(UsageError, match="no attack of that kind"):
        select("extraction", table)


def test_a_factory_that_builds_another_attack_is_refused() -> None:
    (entry,) = parse(
        "attacks: [{name: x, kind: evasion, factory: 'garrison.measure.redteam.evasion:zoo'}]"
    )
    with pytest.raises(InputError, match="factory built evasion/zoo"):
        entry.build()


def test_extraction_is_skipped_for_a_model_the_guard_does_not_serve(tmp_path: Path) -> None:
    from garrison.measure.redteam.service import RedTeamReport, RedTeamRequest, _applicable

    attacks = [e.build() for e in select("zoo,extraction")]
    report = RedTeamReport("url")
    kept = _applicable(attacks, RedTeamRequest("url", tmp_path, "zoo,extraction"), report)
    assert [a.name for a in kept] == ["zoo"]
    assert set(report.skipped) == {"knockoff_nets", "copycat_cnn", "knockoff_nets_natural"}
    assert report.to_json()["skipped"]["copycat_cnn"] == "applies to dga only"
    with pytest.raises(UsageError, match="none applies to model 'url'"):
        _applicable(
            attacks[1:], RedTeamRequest("url", tmp_path, "extraction"), RedTeamReport("url")
        )
