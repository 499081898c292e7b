"""``garrison score url FILE`` against its contract (docs/contracts.md), with the shipped model:
one JSON object per input line, in order, ``{"input", "score", "verdict",
"explanation"}``, verdict malicious / benign (invalid with a reason and a null score for
lines that are no URL), score a probability; ``-`` reads standard input."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garrison.core.errors import GarrisonError
from garrison.detect.ml.url.model import card_path, load_model, shipped_model_path
from garrison.interfaces.cli.score import score

LINES = [
    "https://en.wikipedia.org/wiki/Phishing",
    "http://paypal.com.account-verify.secure-login.example.tk/webscr/cmd=login/index.php",
    "",
    "javascript:alert(1)",
    "http://192.168.10.5/~admin/bank/login.php?session=9f8e7d",
    "www.github.com",
    "http://xn--pypal-4ve.com/signin",
    "http://a b/",
    "x" * 9000,
    "https://en.wikipedia.org/wiki/Phishing",
]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(score)
    return app


def _run(args: list[str], stdin: bytes | str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), args, input=stdin)
    if isinstance(result.exception, GarrisonError):
        return result.exception.exit_code, str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def _split(stdout: str) -> list[str]:
    """JSON lines are separated by "\n" only (a NEL or U+2028 inside a string is text)."""
    return stdout[:-1].split("\n") if stdout.endswith("\n") else [stdout] if stdout else []


def _check(inputs: list[str], stdout: str) -> list[dict]:
    rows = [json.loads(line) for line in _split(stdout)]
    assert len(rows) == len(inputs)
    for given_line, row in zip(inputs, rows, strict=True):
        assert set(row) == {"input", "score", "verdict", "explanation"}
        assert row["verdict"] in ("malicious", "benign", "invalid")
        if row["verdict"] == "invalid":
            assert row["score"] is None and row["explanation"]["reason"]
        else:
            assert row["input"] == given_line
            assert 0.0 <= row["score"] <= 1.0
            assert (row["verdict"] == "malicious") == (
                row["score"] >= row["explanation"]["threshold"]
            )
    return rows


def test_shipped_model_and_card_exist() -> None:
    path = shipped_model_path()
    assert path.is_file() and path.stat().st_size < 5_000_000
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    assert card["version"] == load_model().version
    assert card["threshold"] == load_model().threshold
    assert card["threshold_fixed_at"]["fpr"] == 0.01


def test_file_contract(tmp_path: Path) -> None:
    src = tmp_path / "urls.txt"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    code, out = _run(["url", str(src)])
    assert code == 0
    rows = _check(LINES, out)
    verdicts = [r["verdict"] for r in rows]
    assert verdicts[2:4] == ["invalid", "invalid"] and verdicts[7:9] == ["invalid", "invalid"]
    assert rows[0]["score"] == rows[9]["score"]
    assert rows[1]["verdict"] == "malicious" and rows[0]["verdict"] == "benign"
    terms = rows[1]["explanation"]["terms"]
    assert abs(sum(terms.values()) - rows[1]["explanation"]["log_odds"]) < 1e-2


def test_stdin_out_file_and_threshold(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, _ = _run(["url", "-", "--out", str(target), "--threshold", "1.0"], "\n".join(LINES))
    assert code == 0
    rows = _check(LINES, target.read_text(encoding="utf-8"))
    assert all(r["score"] == 1.0 for r in rows if r["verdict"] == "malicious")  # p >= 1.0 only
    code, out = _run(["url", "-", "--no-explain"], b"https://example.org/\n\xff\xfe\n")
    rows = [json.loads(x) for x in _split(out)]
    assert code == 0 and len(rows) == 2
    assert rows[0]["explanation"] == {} and rows[1]["verdict"] == "invalid"


def test_usage_errors(tmp_path: Path) -> None:
    assert _run(["url", str(tmp_path / "missing.txt")])[0] == 2
    assert _run(["url", "-", "--threshold", "2"], "x.com")[0] == 2
    assert _run(["url", "-", "--model", str(tmp_path / "none.skops")], "x.com")[0] == 2


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        # any text a file can hold (lone surrogates cannot be written as UTF-8 at all)
        st.text(
            alphabet=st.characters(exclude_characters="\n\r", exclude_categories=("Cs",)),
            max_size=80,
        ),
        min_size=1,
        max_size=20,
    )
)
def test_property_one_line_out_per_line_in(lines: list[str]) -> None:
    code, out = _run(["url", "-"], "\n".join(lines) + "\n")
    assert code == 0
    assert len(_split(out)) == len(lines)
