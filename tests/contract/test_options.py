"""Contract: every table of ``garrison.toml`` goes through the one options loader.

For EVERY detector table (``[detectors."<id>"]``, one per registered detector), every source
table (``[ingest.<format>]``) and every stage table (``[hunt]``, ``[triage]`` and its
sub-tables, ``[correlate]``, ``[respond]``, ``[privacy]``, ``[guard]``), written to a real
garrison.toml and checked the way a hunt checks it (``load_config`` + ``HuntService.check_config``):

* an unknown key is rejected, naming the table, the key and the file;
* for every key, a value of a TOML type the field does not accept is rejected, naming the
  table, the key and the file;
* an empty table loads the defaults;
* (hypothesis) any TOML-like table either loads or raises ``OptionsError`` naming a key that
  is in the table, never another exception.

The tables are discovered from the registries, not listed here: a new detector or source
is covered by adding it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.config import TABLES, HuntConfig, load_config
from garrison.core.errors import InputError
from garrison.core.options import OptionsError, fields_of, load_options, table_name
from garrison.core.serveconfig import ServeConfig
from garrison.detect import DETECTORS
from garrison.detect.options import DETECTOR_OPTIONS, detector_table
from garrison.govern.privacy import PrivacyConfig
from garrison.govern.serving import GuardConfig
from garrison.ingest.base import SOURCES
from garrison.ingest.reader import source_settings
from garrison.pipeline import HuntService
from garrison.respond.config import ResponseConfig
from garrison.triage import config as triage_config


def _sub_tables(where: str, cls: type[Any]) -> list[tuple[str, type[Any]]]:
    """``cls`` and the dataclass-typed fields under it (``triage.risk``), as tables."""
    out = [(where, cls)]
    for f in fields_of(cls):
        if isinstance(f.type, type) and dataclasses.is_dataclass(f.type):
            out += _sub_tables(f"{where}.{f.key}", f.type)
    return out


def all_tables() -> list[tuple[str, type[Any]]]:
    tables = [
        ("hunt", HuntConfig),
        ("respond", ResponseConfig),
        ("privacy", PrivacyConfig),
        ("serve", ServeConfig),
    ]
    tables += _sub_tables("guard", GuardConfig)
    for name, cls in triage_config.TABLES.items():
        tables += _sub_tables(name, cls)
    tables += [(detector_table(n), DETECTOR_OPTIONS.get(n)) for n in DETECTORS.names()]
    tables += [(table_name("ingest", n), source_settings(c)) for n, c in SOURCES.items()]
    return tables


SRC = Path(__file__).resolve().parents[2] / "src"
RUNNER = "from garrison.interfaces.cli.app import main; main()"
TABLE_LIST = all_tables()
IDS = [name for name, _ in TABLE_LIST]


def test_every_registry_is_covered() -> None:
    assert set(DETECTOR_OPTIONS.names()) == set(DETECTORS.names())
    tops = {name.split(".", 1)[0] for name in IDS} | {"detectors", "ingest"}
    assert tops == set(TABLES)
    assert len(DETECTORS) >= 10 and len(SOURCES) >= 6


# ------------------------------------------------------------------ writing TOML
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if value != value else "inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(value)


def _write(path: Path, table: str, body: dict[str, Any]) -> Path:
    lines = [f"[{table}]"] + [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in body.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _check(home: Path, config_file: Path) -> None:
    """What ``garrison hunt`` does with the file before reading any input."""
    HuntService.check_config(load_config(home, config_file))


# ------------------------------------------------------------------ TOML kinds of a type
SAMPLES: dict[str, Any] = {
    "table": {"x": 1},
    "array": [1, 2],
    "str": "text",
    "float": 1.5,
    "bool": True,
    "int": 7,
}


def _kinds(tp: Any) -> set[str]:
    """The TOML value kinds a field annotation admits (independently of the loader)."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return set(SAMPLES)
    if origin is Union or origin is types.UnionType:
        return set().union(*(_kinds(a) for a in args))
    if origin in (list, tuple, frozenset):
        return {"array"}
    if origin is dict or (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        return {"table"}
    if origin is typing.Literal:
        return {"str"}
    return {
        bool: {"bool"},
        int: {"int"},
        float: {"int", "float"},
        str: {"str"},
        type(None): set(),
    }[tp]


def _wrong_value(f: Any) -> Any:
    accepted = _kinds(f.spec.accepts if f.spec.accepts is not None else f.type)
    wrong = [kind for kind in SAMPLES if kind not in accepted]
    return SAMPLES[wrong[0]] if wrong else None


# ------------------------------------------------------------------ the contract
@pytest.mark.parametrize(("table", "cls"), TABLE_LIST, ids=IDS)
def test_unknown_key_is_rejected_naming_it(tmp_path: Path, table: str, cls: type[Any]) -> None:
    path = _write(tmp_path / "garrison.toml", table, {"no_such_setting_x": 1})
    with pytest.raises(InputError) as err:
        _check(tmp_path, path)
    message = str(err.value)
    assert f"[{table}] no_such_setting_x" in message and str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(("table", "cls"), TABLE_LIST, ids=IDS)
def test_wrongly_typed_values_are_rejected_naming_the_key(
    tmp_path: Path, table: str, cls: type[Any]
) -> None:
    checked = 0
    for f in fields_of(cls):
        wrong = _wrong_value(f)
        if wrong is None:
            continue
        path = _write(tmp_path / "garrison.toml", table, {f.key: wrong})
        with pytest.raises(InputError) as err:
            _check(tmp_path, path)
        assert f"[{table}] {f.key}:" in str(err.value) and str(path) in str(err.value)
        checked += 1
    assert checked == len(fields_of(cls))  # every key has a value it must refuse


@pytest.mark.parametrize(("table", "cls"), TABLE_LIST, ids=IDS)
def test_an_empty_table_loads_the_defaults(tmp_path: Path, table: str, cls: type[Any]) -> None:
    path = _write(tmp_path / "garrison.toml", table, {})
    _check(tmp_path, path)
    assert load_options(cls, {}, where=table) == cls()


toml_scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@pytest.mark.parametrize(("table", "cls"), TABLE_LIST, ids=IDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_table_loads_or_names_an_offending_key(
    table: str, cls: type[Any], data: st.DataObject
) -> None:
    keys = [f.key for f in fields_of(cls)]
    key_names = st.sampled_from(keys) | st.text(max_size=10) if keys else st.text(max_size=10)
    body = data.draw(st.dictionaries(key_names, toml_values, max_size=5))
    try:
        loaded = load_options(cls, body, where=table, file="garrison.toml")
    except OptionsError as exc:
        assert exc.table.startswith(table) and exc.file == "garrison.toml"
        assert exc.key in body or exc.table != table  # the key named, or a sub-table's
        assert str(exc).startswith(f"garrison.toml: [{exc.table}]")
    else:
        assert isinstance(loaded, cls)


# ------------------------------------------------------------------ [detectors] itself
@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[detectors]\ndisabled = ["no.such.detector"]\n', "no.such.detector"),
        ('[detectors]\ndisabled = ["ml.dga", 3]\n', "disabled"),
        ('[detectors."no.such"]\nthreshold = 1\n', "no.such"),
        ("[detectors]\nsigma = 3\n", "sigma"),
        ('[detectors.options."ml.url"]\nthreshold = 0.5\n', "options"),  # an old docstring's form
        ("[hunts]\nbatch_size = 1\n", "hunts"),
        ('[[triage.suppress]]\nanalytic = "x"\nwindow = "1h"\nbye = "user"\n', "bye"),
        ('[[triage.suppress]]\nanalytic = "x"\n', "window"),
        ('[detectors."ml.beacon"]\nweights = { timing = 1.0, tempo = 2.0 }\n', "tempo"),
        ('[detectors.sigma]\ngroup_by = ["planet"]\n', "planet"),
        ('[detectors."ml.dga"]\nallowlist = "/no/such/allowlist.txt"\n', "allowlist"),
        ('[detectors."ml.anomaly"]\nestimator = "svm"\n', "estimator"),
    ],
)
def test_misnamed_detectors_and_nested_keys_are_errors(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "garrison.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        _check(tmp_path, path)
    assert named in str(err.value) and str(path) in str(err.value)


def test_valid_values_keep_their_meaning(tmp_path: Path) -> None:
    allow = tmp_path / "allow.txt"
    allow.write_text("# ours\nExample.COM.\n", encoding="utf-8")
    path = tmp_path / "garrison.toml"
    path.write_text(
        f'[detectors."ml.dga"]\nallowlist = {json.dumps(str(allow))}\nthreshold = 1\n'
        '[detectors."ml.lookalike"]\nprotected_domains = "contoso.com"\n'
        '[correlate]\nwindow = "2d"\n[triage.risk]\nhalf_life = "12h"\n'
        '[ingest.evtx]\nisolate = "always"\n[detectors]\ndisabled = ["ml.anomaly"]\n',
        encoding="utf-8",
    )
    cfg = load_config(tmp_path, path)
    options = HuntService.check_config(cfg)
    assert options["ml.dga"].allowlist == ("example.com",) and options["ml.dga"].threshold == 1.0
    assert options["ml.lookalike"].protected_domains == ("contoso.com",)
    triage = triage_config.load_triage_config(cfg.raw, cfg.path)
    assert triage.correlate.window_ms == 172_800_000 and triage.risk.half_life_ms == 43_200_000


def test_hunt_refuses_a_bad_table_before_any_work(tmp_path: Path) -> None:
    """The command line: exit 2, one line naming table, key and file; nothing written."""
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    config = home / "garrison.toml"
    config.write_text('[detectors."ml.beacon"]\nthreshhold = 0.9\n', encoding="utf-8")
    data = tmp_path / "a.log"
    data.write_text("t=1000 user=a\n", encoding="utf-8")
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-c", RUNNER, "hunt", str(data), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"GARRISON_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
    )
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert '[detectors."ml.beacon"] threshhold' in lines[0] and "garrison.toml" in lines[0]
    assert not out.exists() and not (home / "state.db").exists()


def test_a_bad_table_inside_a_table_of_tables_names_the_files_table() -> None:
    """Found by the property above: ``[guard.roles]`` holding ``"" = false`` was reported as
    table ``[Override]`` (the class), not ``[guard] roles``."""
    from garrison.govern.serving.config import GuardConfig

    with pytest.raises(OptionsError) as err:
        load_options(GuardConfig, {"roles": {"": False}}, where="guard", file="garrison.toml")
    assert (err.value.table, err.value.key) == ("guard", "roles")
    assert "expected a table" in str(err.value)
