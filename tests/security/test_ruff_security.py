"""ruff's security rules (flake8-bandit, ``S``) hold over src, tests and bench, and every
exception to them says why: a ``# noqa: Sxxx`` carries a reason on its line, a rule ignored in
pyproject.toml carries a ``# reason:`` comment, and no blanket ``# noqa`` hides them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tokenize
import tomllib
from io import StringIO
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
FOLDERS = ("src", "tests", "bench")

# a noqa comment: its optional colon, the codes after it, and the rest (the reason)
_NOQA = re.compile(r"#\s*noqa\b(?P<colon>:?)(?P<codes>[\sA-Z0-9,]*)(?P<rest>.*)$")
_CODE = re.compile(r"\bS\d*\b")


def _has_ruff() -> bool:
    return shutil.which("ruff") is not None or (
        subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode
        == 0
    )


def _comments(text: str) -> list[tuple[int, str]]:
    """(line, text) of each comment: a noqa inside a string literal is not a directive."""
    tokens = tokenize.generate_tokens(StringIO(text).readline)
    return [(t.start[0], t.string) for t in tokens if t.type == tokenize.COMMENT]


def noqa_problems(text: str) -> list[tuple[int, str]]:
    """(line, complaint) for each blanket noqa and each S-rule noqa without a reason."""
    out = []
    for no, line in _comments(text):
        if "noqa" not in line:
            continue
        m = _NOQA.search(line)
        if m is None:
            continue
        if not m["colon"]:
            out.append((no, "blanket '# noqa' (it would hide security rules too): name the codes"))
            continue
        reason = m["rest"].strip(" -\u2013\u2014:()#\t")
        if _CODE.search(m["codes"]) and not reason:
            out.append((no, f"'# noqa:{m['codes'].rstrip()}' without a reason"))
    return out


def ignore_problems(text: str) -> list[str]:
    """Each S rule ignored in pyproject's ruff config without a '# reason:' comment on its line
    or on the comment block just above it."""
    out = []
    lines = text.splitlines()
    in_ruff = False
    for i, line in enumerate(lines):
        if line.startswith("["):
            in_ruff = line.startswith("[tool.ruff.lint")
            continue
        if not in_ruff or line.lstrip().startswith("#") or "select" in line.split("=")[0]:
            continue
        code_part = line.split("#", 1)[0]
        if not re.search(r'"S\d*"', code_part):
            continue
        above = []
        j = i - 1
        while j >= 0 and lines[j].lstrip().startswith("#"):
            above.append(lines[j])
            j -= 1
        if "# reason:" not in line and not any("# reason:" in a for a in above):
            out.append(f"pyproject.toml:{i + 1}: {line.strip()}")
    return out


def test_the_security_rules_are_selected_and_not_ignored_wholesale() -> None:
    lint = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    assert "S" not in lint.get("ignore", []), "the S rules are switched off globally"
    for pattern, codes in lint.get("per-file-ignores", {}).items():
        assert "S" not in codes, f"per-file-ignores {pattern!r} switches off every S rule"


def test_every_ignored_security_rule_in_pyproject_says_why() -> None:
    assert not ignore_problems(PYPROJECT.read_text(encoding="utf-8"))


def test_every_security_noqa_says_why() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{no}: {why}"
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for no, why in noqa_problems(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("line", "bad"),
    [
        ("x = 1  # noqa", True),
        ("x = 1  # noqa: S105", True),
        ("x = 1  # noqa: S105, E501  ", True),
        ("x = 1  # noqa: S105 - a column name", False),
        ("x = 1  # noqa: S112  (a damaged member is not evidence)", False),
        ("x = 1  # noqa: E501", False),
        ("x = 'no noqa here'", False),
    ],
)
def test_the_noqa_check_tells_explained_from_bare(line: str, bad: bool) -> None:
    assert bool(noqa_problems(line)) is bad


def test_the_pyproject_check_catches_an_unexplained_ignore() -> None:
    bare = '[tool.ruff.lint]\nignore = ["S608"]\n'
    assert ignore_problems(bare)
    assert not ignore_problems('[tool.ruff.lint]\nignore = ["S608"]  # reason: reviewed\n')
    assert not ignore_problems('[tool.ruff.lint]\n# reason: reviewed\n"a.py" = ["S608"]\n')
    assert not ignore_problems('[tool.other]\nignore = ["S608"]\n')


@pytest.mark.skipif(not _has_ruff(), reason="ruff not installed")
def test_ruff_security_rules_pass_over_src_tests_and_bench() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "S", *FOLDERS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
