"""Same seed and sizes: identical bytes. Another seed: another data set."""

from __future__ import annotations

from pathlib import Path

from demo_support import SMALL, SmallDemo

from garrison.demo.service import DemoOptions, generate


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(small_demo: SmallDemo, tmp_path: Path) -> None:
    again = DemoOptions(out=tmp_path / "again", **SMALL)
    generate(again)
    first, second = _files(small_demo.options.data_dir), _files(again.data_dir)
    assert set(first) == {
        "assets.csv",
        "labels.json",
        "logs/linux/auth.log",
        "logs/zeek/conn.log",
        "logs/zeek/dns.log",
        "logs/windows/events.jsonl",
    }
    assert first == second


def test_other_seed_gives_other_data(small_demo: SmallDemo, tmp_path: Path) -> None:
    other = DemoOptions(out=tmp_path / "other", **{**SMALL, "seed": 12})
    generate(other)
    first, second = _files(small_demo.options.data_dir), _files(other.data_dir)
    assert all(first[name] != second[name] for name in first)


def test_regenerating_in_place_replaces_the_files(tmp_path: Path) -> None:
    opts = DemoOptions(out=tmp_path / "d", **SMALL)
    generate(opts)
    stray = opts.logs_dir / "zeek" / "old.log"
    stray.write_text("left over\n")
    generate(opts)
    assert not stray.exists()


def test_files_carry_the_end_of_the_data_as_mtime(small_demo: SmallDemo) -> None:
    end_s = small_demo.labels["time_range"]["end"] / 1000
    for rel in small_demo.labels["files"]:
        assert (small_demo.options.data_dir / rel).stat().st_mtime == end_s


def test_bytes_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Set iteration order changes with PYTHONHASHSEED; the output must not."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from garrison.demo.service import "
        "DemoOptions, generate; generate(DemoOptions(out=Path(sys.argv[1]), seed=2, "
        "users=10, hosts=10, days=2))"
    )
    for name, hash_seed in (("a", "1"), ("b", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True, env=env)
    assert _files(tmp_path / "a" / "data") == _files(tmp_path / "b" / "data")
