"""``garrison score dga FILE`` and the batch scoring behind it: one JSON line per input line."""

from __future__ import annotations

import json

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garrison.core.errors import GarrisonError
from garrison.detect.ml.dga.model import load_model
from garrison.detect.ml.dga.scoring import score_lines
from garrison.interfaces.cli.models import models_app
from garrison.interfaces.cli.score import score


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(score)
    app.add_typer(models_app)
    return app


def _invoke(args: list[str], stdin: str | None = None) -> tuple[int, str]:
    """Run like ``garrison`` does: GarrisonError -> its exit code."""
    runner = CliRunner()
    result = runner.invoke(_app(), args, input=stdin)
    if isinstance(result.exception, GarrisonError):
        return result.exception.exit_code, str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def model():
    return load_model()


LINES = [
    "www.google.com",
    "xjkqwzvhdtpl.biz",
    "",
    "   ",
    "10.0.0.1",
    "bücher.de",
    "xn--80ak6aa92e.com",
    "WWW.EXAMPLE.COM.",
    "a..b.com",
    "x" * 70 + ".com",
    "com",
    "bad name.com",
    "localhost",
    "y" * 2000,
]


def test_score_file(tmp_path, model):
    src = tmp_path / "in.txt"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    code, out = _invoke(["score", "dga", str(src)])
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(LINES)
    assert [r["input"] for r in rows[:3]] == LINES[:3]
    for r in rows:
        assert set(r) == {"input", "score", "verdict", "explanation"}
        assert r["verdict"] in ("malicious", "benign", "invalid")
        if r["verdict"] == "invalid":
            assert r["score"] is None and r["explanation"]["reason"]
        else:
            assert 0.0 <= r["score"] <= 1.0
            assert r["explanation"]["model_version"] == model.version
    by_input = {r["input"]: r for r in rows}
    assert by_input["www.google.com"]["verdict"] == "benign"
    assert by_input["xjkqwzvhdtpl.biz"]["verdict"] == "malicious"
    assert by_input["xjkqwzvhdtpl.biz"]["explanation"]["top_features"]
    assert by_input["10.0.0.1"]["explanation"]["reason"] == "ip address"
    assert by_input["bücher.de"]["verdict"] == "invalid"
    assert by_input["bücher.de"]["explanation"]["unicode"] == "bücher.de"
    assert by_input["WWW.EXAMPLE.COM."]["explanation"]["registered_domain"] == "example.com"
    assert "note" in by_input["localhost"]["explanation"]


def test_score_stdin_and_out_file(tmp_path):
    out = tmp_path / "out.jsonl"
    code, _ = _invoke(
        ["score", "dga", "-", "--out", str(out), "--no-explain"],
        stdin="example.org\nqwpxzkvbnmrt.net\n",
    )
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["input"] for r in rows] == ["example.org", "qwpxzkvbnmrt.net"]
    assert "top_features" not in rows[0]["explanation"]


@pytest.mark.parametrize(
    "args",
    [
        ["score", "url", "x"],
        ["score", "email", "x"],
        ["score", "nope", "x"],
        ["score", "dga", "/no/such/file"],
        ["score", "dga", "-", "--threshold", "2"],
        ["models", "train", "url", "--data", "."],
    ],
)
def test_usage_errors_exit_2(args, tmp_path):
    code, message = _invoke(args, stdin="")
    assert code == 2, message


def test_unknown_model_is_a_usage_error():
    code, message = _invoke(["score", "nope", "-"], stdin="x\n")
    assert code == 2 and "unknown model 'nope'" in message


def test_invalid_utf8_lines(model):
    rows = score_lines([b"\xff\xfeexample.com\n", b"good.com\n"], model)
    assert rows[0]["verdict"] == "invalid" and rows[0]["explanation"]["reason"] == (
        "not valid UTF-8"
    )
    assert rows[1]["verdict"] in ("benign", "malicious")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=120),
            st.binary(max_size=80),
            st.from_regex(r"[A-Za-z0-9.\-]{0,70}", fullmatch=True),
        ),
        max_size=25,
    )
)
def test_score_lines_never_raises(lines):
    results = score_lines(lines, load_model())
    assert len(results) == len(lines)
    for r in results:
        json.dumps(r)
        assert r["verdict"] in ("malicious", "benign", "invalid")
