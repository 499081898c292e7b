"""The secret scan over the repository's tracked files, and proof that it catches secrets.

A finding fails the suite unless ``secrets_allowlist.toml`` explains it; see
docs/security-checks.md for reading a failure and adding a reviewed exception.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.security.secretscan import (
    ALLOWLIST,
    GIT,
    ROOT,
    load_allowlist,
    scan,
    tracked_files,
    unexplained,
)

# Built at run time so this file itself holds no secret-shaped text for the scan to find.
FAKE_AWS_KEY_ID = "AKIA" + "Q7ZT3NRV5XW2M4PL"
PEM_BEGIN = "-----BEGIN " + "RSA PRIVATE KEY-----"
PEM_END = "-----END " + "RSA PRIVATE KEY-----"
FAKE_PEM = f"{PEM_BEGIN}\nMIIEowIBAAKCAQEAx9fakefakefakefakefakefakefakefake\n{PEM_END}\n"


def _plant(folder: Path, rel: str, pragma: str = "") -> str:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'AWS_ACCESS_KEY_ID = "{FAKE_AWS_KEY_ID}"{pragma}\nKEY = """{FAKE_PEM}"""\n',
        encoding="utf-8",
    )
    return rel


def _types(findings: list) -> set[str]:  # type: ignore[type-arg]
    return {f.type for f in findings}


def _in_git_checkout() -> bool:
    if GIT is None:
        return False
    res = subprocess.run(
        [GIT, "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return res.returncode == 0 and res.stdout.strip() == "true"


@pytest.mark.slow
@pytest.mark.skipif(not _in_git_checkout(), reason="not a git checkout: no tracked files to scan")
def test_tracked_files_hold_no_unexplained_secret() -> None:
    files = tracked_files()
    assert len(files) > 100, "git ls-files listed too few files to be this repository"
    found = unexplained(scan(ROOT, files), load_allowlist())
    assert not found, (
        "possible secrets in tracked files (remove and rotate a real one; explain a false "
        f"positive in {ALLOWLIST.relative_to(ROOT)}):\n" + "\n".join(map(str, found))
    )


def test_a_planted_cloud_key_and_private_key_are_caught(tmp_path: Path) -> None:
    found = scan(tmp_path, [_plant(tmp_path, "config/settings.py")])
    assert {"AWS Access Key", "Private Key"} <= _types(found)
    assert {"AWS Access Key", "Private Key"} <= _types(unexplained(found, load_allowlist()))


def test_an_exception_for_one_fake_key_does_not_cover_another_in_the_same_file(
    tmp_path: Path,
) -> None:
    # conftest.py has a reviewed Secret Keyword exception, pinned to its one fake password
    rel = "tests/unit/govern/access/conftest.py"
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_text("PASS" + 'WORD = "a-real-looking-one"\n', encoding="utf-8")
    found = scan(tmp_path, [rel])
    assert "Secret Keyword" in _types(found)
    assert "Secret Keyword" in _types(unexplained(found, load_allowlist()))


def test_an_inline_pragma_does_not_hide_a_secret(tmp_path: Path) -> None:
    rel = _plant(tmp_path, "app.py", pragma="  # pragma: allowlist secret")
    assert "AWS Access Key" in _types(scan(tmp_path, [rel]))


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_the_scan_reads_what_git_tracks(tmp_path: Path) -> None:
    subprocess.run([GIT, "init", "-q", str(tmp_path)], check=True)
    _plant(tmp_path, "tracked/leak.py")
    _plant(tmp_path, "untracked/other.py")
    subprocess.run([GIT, "-C", str(tmp_path), "add", "tracked/leak.py"], check=True)
    files = tracked_files(tmp_path)
    assert files == ["tracked/leak.py"]
    assert {f.path for f in scan(tmp_path, files)} == {"tracked/leak.py"}


def test_the_allowlist_explains_every_entry() -> None:
    entries = load_allowlist()
    assert entries and all(e.reason.strip() for e in entries)


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('files = "a.py"\ntype = "Hex High Entropy String"\n', "no reason"),
        ('files = "a.py"\ntype = "Secret Keyword"\nreason = "a test"\n', "must pin value_sha1"),
        (
            'files = "a.py"\ntype = "Private Key"\nreason = "x"\nvalue_sha1 = "ab"\n',
            "never excepted",
        ),
        ('files = "a.py"\ntype = "Secret Keyword"\nreason = "x"\nwhy = "y"\n', "unknown keys"),
        ('type = "Secret Keyword"\nreason = "x"\nvalue_sha1 = "ab"\n', "needs files"),
    ],
)
def test_an_unexplained_or_unpinned_exception_is_refused(
    tmp_path: Path, entry: str, complaint: str
) -> None:
    path = tmp_path / "allow.toml"
    path.write_text("[[allow]]\n" + entry, encoding="utf-8")
    with pytest.raises(ValueError, match=complaint):
        load_allowlist(path)
