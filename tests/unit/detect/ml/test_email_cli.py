"""``garrison score email FILE``: both input shapes, invalid lines, explanations, and the
model's behaviour on a few hand-made messages (uses the shipped model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garrison.core.errors import GarrisonError, InputError
from garrison.detect.ml.email.model import EmailModel, load_model, shipped_model_path
from garrison.detect.ml.email.scoring import score_lines
from garrison.interfaces.cli.score import score

PHISH_RAW = (
    'From: "PayPal Security" <service@secure-paypa1-login.example>\n'
    "Reply-To: verify@collector.example\n"
    "Subject: Urgent: your account has been suspended\n"
    "Content-Type: text/html\n\n"
    "<html><p>Unusual activity. Verify your account immediately or it will be closed "
    "within 24 hours. Confirm your password and credit card.</p>"
    '<a href="http://203.0.113.9/paypal/login">https://www.paypal.com/signin</a></html>\n'
)
HAM_RAW = (
    "From: Bob <bob@example.org>\nSubject: Re: patch for the parser\n\n"
    "Thanks, I ran the tests on the branch and the parser change looks fine to me.\n"
    "One nit: the docstring still mentions the old option. Merge when ready.\n"
)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(score)
    return app


def _invoke(args: list[str], stdin: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), args, input=stdin)
    if isinstance(result.exception, GarrisonError):
        return result.exception.exit_code, str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def model() -> EmailModel:
    return load_model()


def test_contract_both_shapes_and_invalid_lines() -> None:
    lines = [
        json.dumps({"raw": PHISH_RAW, "id": "p1"}),
        json.dumps({"subject": "Re: patch", "body": "Looks fine, merge when ready."}),
        "not json",
        json.dumps([1, 2]),
        json.dumps({"nothing": 1}),
        "",
    ]
    code, out = _invoke(["email", "-"], "\n".join(lines) + "\n")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(lines)
    for row in rows:
        assert set(row) == {"input", "score", "verdict", "explanation"}
        assert row["verdict"] in {"malicious", "benign", "invalid"}
    assert rows[0]["input"]["id"] == "p1" and rows[0]["input"]["shape"] == "raw"
    assert rows[1]["input"]["shape"] == "subject+body"
    for row in rows[:2]:
        assert 0.0 <= row["score"] <= 1.0 and row["verdict"] != "invalid"
        assert "log_odds_by_block" in row["explanation"]
    for row in rows[2:]:
        assert row["verdict"] == "invalid" and row["score"] is None
        assert row["explanation"]["reason"]


def test_threshold_override_and_no_explain() -> None:
    line = json.dumps({"raw": HAM_RAW}) + "\n"
    _, out = _invoke(["email", "-", "--threshold", "0", "--no-explain"], line)
    row = json.loads(out)
    assert row["verdict"] == "malicious" and "words" not in row["explanation"]


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    code, _ = _invoke(["email", str(tmp_path / "absent.jsonl")], "")
    assert code == InputError.exit_code


def test_phish_scores_above_ham(model: EmailModel) -> None:
    rows = score_lines([json.dumps({"raw": PHISH_RAW}), json.dumps({"raw": HAM_RAW})], model)
    assert rows[0]["score"] > rows[1]["score"]
    assert rows[0]["verdict"] == "malicious" and rows[1]["verdict"] == "benign"
    names = {s["feature"] for s in rows[0]["explanation"]["structural"]}
    assert {"ip_link", "urgency_words"} <= names


def test_explanation_adds_up(model: EmailModel) -> None:
    row = score_lines([json.dumps({"raw": PHISH_RAW})], model)[0]
    expl = row["explanation"]
    a, b = model.platt
    import math

    p = 1 / (1 + math.exp(-(a * expl["log_odds"] + b)))
    assert abs(p - row["score"]) < 1e-3


def test_artefact_has_no_untrusted_types_and_card_matches() -> None:
    import hashlib

    import skops.io as sio

    path = shipped_model_path()
    assert sio.get_untrusted_types(file=path) == []
    card = json.loads(path.with_name("email.card.json").read_text())
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["version"] == load_model().version


def test_tampered_artefact_refused(tmp_path: Path) -> None:
    import skops.io as sio

    bad = tmp_path / "bad.skops"
    sio.dump({"format": "garrison-email/1", "obj": InputError("x")}, bad)
    with pytest.raises(InputError):
        EmailModel.load(bad)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda s, b: json.dumps({"subject": s, "body": b}).encode(), st.text(), st.text()
        ),
        st.builds(lambda r: json.dumps({"raw": r}).encode(), st.text(max_size=600)),
    )
)
def test_any_line_gets_a_defined_verdict(model: EmailModel, line: bytes) -> None:
    rows = score_lines([line], model)
    assert len(rows) == 1
    assert rows[0]["verdict"] in {"malicious", "benign", "invalid"}
    json.dumps(rows[0])
