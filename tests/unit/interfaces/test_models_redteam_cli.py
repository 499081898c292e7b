"""``garrison models redteam``: bad usage is one line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.models_cli import invoke


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["redteam", "dga", "--attacks", "nope"], "--attacks: unknown nope"),
        (["redteam", "url", "--attacks", "extraction"], "none applies to model 'url'"),
        (["redteam", "dga", "--attacks", "poisoning"], "redteam dga poisoning"),
        (["redteam", "dga", "--budget", "3"], "--budget must be at least 50"),
        (["redteam", "dga", "--points", "0"], "--points must be at least 1"),
        (["redteam", "email"], "no red-team target for model 'email' (known: dga, url)"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args: list[str], says: str, tmp_path: Path) -> None:
    (tmp_path / "dga").mkdir()
    (tmp_path / "phishing-urls").mkdir()
    code, out = invoke(["models", *args, "--corpus", str(tmp_path)])
    assert code == 2
    assert says in out and "Traceback" not in out


def test_a_corpus_without_dga_data_is_an_input_error(tmp_path: Path) -> None:
    code, out = invoke(["models", "redteam", "dga", "--corpus", str(tmp_path)])
    assert code == 2 and "dga not found" in out


def test_a_dga_folder_without_families_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dga").mkdir()
    code, out = invoke(["models", "redteam", "dga", "--corpus", str(tmp_path)])
    assert code == 2 and "needs FAMILY.txt files" in out


def test_extraction_and_poisoning_print_their_own_columns_and_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from garrison.interfaces.cli.models_redteam import _print
    from garrison.measure.redteam.contract import AttackResult, Outcome
    from garrison.measure.redteam.service import RedTeamReport

    theft = AttackResult(
        "knockoff_nets", "extraction", Outcome(2000, 0.9, queries=1000),
        Outcome(2000, 0.6, queries=100, extra={"queries_until_flagged": 100, "agreement": 0.6,
                                               "signals": ["coverage"]}), 1000, 7,
    )  # fmt: skip
    poison = AttackResult(
        "backdoor", "poisoning", Outcome(40, 0.99, clean={"accuracy": 0.96}),
        Outcome(40, 0.2, clean={"accuracy": 0.95},
                extra={"poison_found": 0.95, "false_positives": 0.01}), 1000, 7,
    )  # fmt: skip
    report = RedTeamReport("dga", [theft, poison], skipped={"zoo": "applies to url only"})
    _print(report)
    out = capsys.readouterr().out
    assert "flagged at" in out and "coverage" in out and "poison found" in out
    assert "issue 13 bar met" in out  # extraction: flagged at 100, agreement 0.6
    assert "issue 13 bar NOT met" in out  # poisoning: ASR 0.2 > 0.05
    assert "skipped zoo: applies to url only" in out
