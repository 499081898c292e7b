"""Symbolic links inside hunted folders (issue 18 item 3).

A link planted in a hunted folder made the hunt read whatever it pointed at: the home's
audit HMAC key and the first line of /etc/passwd ended up quoted in quarantine.jsonl.
Links are now followed only to files inside the paths the user named, never into the
home, and every link not followed is reported with its reason; unrecognised files are
never quoted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from garrison.ingest.reader import InputFile, expand_inputs, open_source

ROOT = Path(__file__).resolve().parents[3]
KEY = bytes(range(7, 39))  # 32 bytes, like the audit HMAC key


def planted(tmp_path: Path) -> tuple[Path, Path]:
    """A hunted folder with one honest log and a home holding a key outside it."""
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "a.log").write_text("#kv\nt=1000 user=a\n")
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "audit.key").write_bytes(KEY)
    return folder, home


def problems_by_name(problems: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {Path(p.display).name: p.reason for p in problems}


def test_link_to_a_key_in_the_home_outside_the_folder(tmp_path: Path) -> None:
    folder, home = planted(tmp_path)
    (folder / "key.log").symlink_to(home / "keys" / "audit.key")
    files, problems = expand_inputs([str(folder)])
    assert [f.path.name for f in files] == ["a.log"]
    reason = problems_by_name(problems)["key.log"]
    assert "outside the named paths: not followed" in reason


def test_link_into_the_home_when_the_home_is_inside_the_folder(tmp_path: Path) -> None:
    folder, _ = planted(tmp_path)
    home = folder / ".garrison"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / "audit.key").write_bytes(KEY)
    (folder / "key.log").symlink_to(home / "keys" / "audit.key")
    exclude = {home.resolve(): "the Garrison home"}
    files, problems = expand_inputs([str(folder)], exclude)
    assert "key.log" not in [f.path.name for f in files]
    assert problems_by_name(problems)["key.log"] == (
        "symbolic link into the Garrison home: not followed"
    )
    named, named_problems = expand_inputs([str(home / "keys" / "audit.key")], exclude)
    assert named == [] and "inside the Garrison home" in named_problems[0].reason


def test_link_to_etc_passwd(tmp_path: Path) -> None:
    folder, _ = planted(tmp_path)
    (folder / "passwd.log").symlink_to("/etc/passwd")
    files, problems = expand_inputs([str(folder)])
    assert [f.path.name for f in files] == ["a.log"]
    assert "/etc/passwd, outside the named paths" in problems_by_name(problems)["passwd.log"]


def test_link_loops_and_links_to_folders(tmp_path: Path) -> None:
    folder, _ = planted(tmp_path)
    (folder / "one").symlink_to(folder / "two")
    (folder / "two").symlink_to(folder / "one")
    (folder / "self").symlink_to(folder)
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder / "sub")
    files, problems = expand_inputs([str(folder)])
    assert [f.path.name for f in files] == ["a.log"]
    found = problems_by_name(problems)
    assert found["one"] == found["two"] == "symbolic link loop: not followed"
    assert found["self"] == found["up"] == "symbolic link to a folder: not followed"


def test_link_inside_the_folder_to_a_file_inside_it_is_followed(tmp_path: Path) -> None:
    folder, _ = planted(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "alias.log").symlink_to(folder / "a.log")
    (folder / "relative.log").symlink_to("sub/alias.log")
    files, problems = expand_inputs([str(folder)])
    assert [f.path.name for f in files] == ["a.log", "relative.log", "alias.log"]
    assert problems == []


def test_a_link_between_two_named_paths_is_followed(tmp_path: Path) -> None:
    folder, _ = planted(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "b.log").write_text("#kv\nt=1 user=b\n")
    (folder / "b.log").symlink_to(other / "b.log")
    files, problems = expand_inputs([str(folder), str(other)])
    assert [f.display for f in files].count(str(folder / "b.log")) == 1 and problems == []


def test_a_named_link_is_the_users_choice(tmp_path: Path) -> None:
    folder, _ = planted(tmp_path)
    named = tmp_path / "named.log"
    named.symlink_to(folder / "a.log")
    files, problems = expand_inputs([str(named)])
    assert [f.display for f in files] == [str(named)] and problems == []


def test_unrecognised_files_are_not_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"root:x:0:0:SECRET-MATERIAL:/root:/bin/bash\n" + KEY)
    source = open_source(InputFile(secret, "secret"))
    assert source is not None and source.format == "unknown"
    (item,) = list(source.read(secret))
    assert item.reason.startswith("unrecognised format")  # type: ignore[union-attr]
    assert "SECRET" not in item.reason and "root" not in item.reason  # type: ignore[union-attr]
    assert not getattr(item, "excerpt", "")


def test_hunt_reports_each_link_and_leaks_no_key(tmp_path: Path) -> None:
    """End to end: the key and /etc/passwd stay out of every output file."""
    folder, home = planted(tmp_path)
    (folder / "key.log").symlink_to(home / "keys" / "audit.key")
    (folder / "passwd.log").symlink_to("/etc/passwd")
    out = tmp_path / "out"
    runner = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import tests.support; "
        "from garrison.interfaces.cli.app import main; main()"
    )
    res = subprocess.run(
        [sys.executable, "-c", runner, "hunt", str(folder), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GARRISON_HOME": str(home)},
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    failed = {Path(p["path"]).name: p["reason"] for p in summary["files_failed"]}
    assert "symbolic link into the Garrison home" in failed["key.log"]  # the home is excluded
    assert "outside the named paths" in failed["passwd.log"]
    passwd_head = Path("/etc/passwd").read_bytes()[:20]
    for name in ("quarantine.jsonl", "summary.json", "findings.jsonl", "incidents.jsonl"):
        blob = (out / name).read_bytes()
        assert KEY.hex() not in blob.decode("utf-8", "replace")
        assert KEY not in blob and passwd_head not in blob
    assert summary["records_read"] == 1
