"""``garrison models redteam``: bad usage is one line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.models_cli import invoke


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["redteam", "dga", "--attacks", "nope"], "--attacks: unknown nope"),
        (["redteam", "dga", "--attacks", "extraction"], "no attack of that kind"),
        (["redteam", "dga", "--budget", "3"], "--budget must be at least 50"),
        (["redteam", "dga", "--points", "0"], "--points must be at least 1"),
        (["redteam", "email"], "no red-team target for model 'email' (known: dga, url)"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args: list[str], says: str, tmp_path: Path) -> None:
    (tmp_path / "dga").mkdir()
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
