"""The options loader on its own: types, ranges, names, conversions and its messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from garrison.core.errors import InputError
from garrison.core.options import (
    OptionsError,
    describe,
    load_options,
    names_or_file,
    option,
    option_keys,
    table_name,
)


@dataclass(slots=True, frozen=True)
class Inner:
    size: int = option(1, min=0)


@dataclass(slots=True, frozen=True)
class Item:
    name: str = option(nonempty=True)
    weight: float = 1.0


def _upper(value: str) -> str:
    if value == "bad":
        raise ValueError("'bad' is refused")
    return value.upper()


@dataclass(slots=True, frozen=True)
class Sample:
    count: int = option(3, min=1, max=10)
    ratio: float = 0.5
    flag: bool = False
    names: list[str] = field(default_factory=list)
    pair: tuple[str, ...] = ()
    weights: dict[str, float] = option(default_factory=dict, keys=("a", "b"), min=0)
    limit: int | None = None
    mode: Literal["fast", "slow"] = "fast"
    colour: str = option("red", choices=("red", "blue"))
    window_ms: int = option(1000, key="window")
    shout: str = option("", convert=_upper)
    inner: Inner = field(default_factory=Inner)
    items: list[Item] = field(default_factory=list)
    anything: Any = None


def load(table: dict[str, Any]) -> Sample:
    return load_options(Sample, table, where="detectors.sample", file="g.toml")


def refused(table: dict[str, Any]) -> OptionsError:
    with pytest.raises(OptionsError) as err:
        load(table)
    return err.value


def test_defaults_and_well_typed_values() -> None:
    assert load({}) == Sample() and load_options(Sample, None, where="x") == Sample()
    got = load(
        {
            "count": 10,
            "ratio": 2,
            "names": ["a"],
            "pair": ["x", "y"],
            "weights": {"a": 1},
            "limit": 5,
            "mode": "slow",
            "window": 5,
            "shout": "hi",
            "inner": {"size": 0},
            "items": [{"name": "n"}],
            "anything": [1, {"x": None}],
        }
    )
    assert got.ratio == 2.0 and isinstance(got.ratio, float)  # an int widened to float
    assert got.pair == ("x", "y") and got.weights == {"a": 1.0} and got.window_ms == 5
    assert got.shout == "HI" and got.inner == Inner(0) and got.items == [Item("n", 1.0)]


@pytest.mark.parametrize(
    ("table", "key", "why"),
    [
        ({"cuont": 1}, "cuont", "unknown key"),
        ({"window_ms": 1}, "window_ms", "unknown key"),  # the TOML name is "window"
        ({"count": True}, "count", "expected int, got bool"),
        ({"count": 1.0}, "count", "expected int, got float"),
        ({"count": "3"}, "count", "expected int, got str"),
        ({"count": 0}, "count", "below the minimum 1"),
        ({"count": 11}, "count", "above the maximum 10"),
        ({"ratio": True}, "ratio", "expected float, got bool"),
        ({"flag": 1}, "flag", "expected bool, got int"),
        ({"names": "a"}, "names", "expected array of str"),
        ({"names": ["a", 2]}, "names", "item 2: expected str"),
        ({"weights": {"c": 1}}, "weights", "unknown key 'c'"),
        ({"weights": {"a": -1}}, "weights", "below the minimum"),
        ({"weights": {"a": "x"}}, "weights", "'a': expected float"),
        ({"limit": "5"}, "limit", "expected int or nothing"),
        ({"mode": "medium"}, "mode", "not one of fast, slow"),
        ({"colour": "green"}, "colour", "not one of red, blue"),
        ({"shout": "bad"}, "shout", "'bad' is refused"),
        ({"inner": 3}, "inner", "expected a table"),
        ({"items": {"name": "x"}}, "items", "expected an array of tables"),
    ],
)
def test_mistakes_name_table_key_and_file(table: dict[str, Any], key: str, why: str) -> None:
    err = refused(table)
    assert isinstance(err, InputError) and err.key == key and why in str(err)
    assert str(err).startswith(f"g.toml: [detectors.sample] {key}: ")


def test_nested_tables_are_named_as_written() -> None:
    err = refused({"inner": {"size": -1}})
    assert (err.table, err.key) == ("detectors.sample.inner", "size")
    err = refused({"items": [{"name": "a"}, {"weight": 2}]})
    assert (err.table, err.key) == ("detectors.sample.items #2", "name")
    assert "needs 'name'" in str(err)
    assert refused({"items": [{"name": " "}]}).reason == "must not be empty"


def test_not_a_table_and_unreadable_files() -> None:
    with pytest.raises(OptionsError, match=r"\[t\]: must be a table"):
        load_options(Sample, [1], where="t")

    @dataclass(frozen=True)
    class Allow:
        allowlist: tuple[str, ...] = option((), accepts=list[str] | str, convert=names_or_file)

    with pytest.raises(OptionsError, match="allowlist: cannot read /no/such/file"):
        load_options(Allow, {"allowlist": "/no/such/file"}, where="t")


def test_names_or_file(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("# c\nExample.COM.\n\n foo.net  # lab\n", encoding="utf-8")
    assert names_or_file(str(path)) == ("example.com", "foo.net")
    assert names_or_file([" A.org. ", ""]) == ("a.org",)


def test_helpers() -> None:
    assert table_name("detectors", "ml.dga") == 'detectors."ml.dga"'
    assert table_name("ingest", "evtx") == "ingest.evtx"
    assert describe(tuple[str, ...]) == "array of str" and describe(float | str) == "float or str"
    assert "window" in option_keys(Sample) and "window_ms" not in option_keys(Sample)


def test_a_misspelt_key_gets_a_suggestion() -> None:
    assert "did you mean 'count'?" in str(refused({"cuont": 1}))
    assert "(known: anything, colour," in str(refused({"zzz": 1}))
