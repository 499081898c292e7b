"""Batching and fingerprinting: properties that make re-ingestion idempotent."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.ingest.reader import InputFile, batches, expand_inputs, open_source
from tests.support import KVSource, write_kv

lines = st.lists(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
        ),
        max_size=30,
    ),
    max_size=40,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=lines, size=st.integers(1, 7))
def test_batches_cover_every_line_once_and_fingerprints_are_stable(
    tmp_path: Path, content: list[str], size: int
) -> None:
    a = write_kv(tmp_path / "a.log", content)
    b = write_kv(tmp_path / "b.log", content)
    got_a = list(batches(KVSource(), InputFile(a, "a"), size))
    got_b = list(batches(KVSource(), InputFile(b, "b"), size))
    positions = [r.position for bt in got_a for r in bt.records] + [
        q.position for bt in got_a for q in bt.quarantined
    ]
    assert sorted(positions) == list(range(2, len(content) + 2))
    assert all(0 < bt.size <= size for bt in got_a)
    # same content under another name -> same fingerprints; all fingerprints distinct
    assert [x.fingerprint for x in got_a] == [x.fingerprint for x in got_b]
    assert len({x.fingerprint for x in got_a}) == len(got_a)


def test_changed_content_changes_the_fingerprint(tmp_path: Path) -> None:
    a = write_kv(tmp_path / "a.log", ["t=1 a", "t=2 b"])
    b = write_kv(tmp_path / "b.log", ["t=1 a", "t=2 c"])
    fa = [x.fingerprint for x in batches(KVSource(), InputFile(a, "a"), 10)]
    fb = [x.fingerprint for x in batches(KVSource(), InputFile(b, "b"), 10)]
    assert fa != fb


def test_a_source_that_crashes_is_quarantined_not_fatal(tmp_path: Path) -> None:
    class Crashy(KVSource):
        def read(self, path):
            yield from list(super().read(path))[:1]
            raise ValueError("parser exploded")

    f = write_kv(tmp_path / "a.log", ["t=1 a", "t=2 b", "t=3 c"])
    got = list(batches(Crashy(), InputFile(f, "a"), 10))
    assert len(got[0].records) == 1
    assert "parser exploded" in got[0].quarantined[0].reason
    assert "after position 2" in got[0].quarantined[0].reason


def test_expand_inputs_walks_folders_in_order_and_reports_missing(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.log", "d/a.log", "d/sub/c.log"):
        (tmp_path / name).write_text("x")
    files, problems = expand_inputs([str(tmp_path / "d"), str(tmp_path / "missing")])
    assert [f.path.name for f in files] == ["a.log", "b.log", "c.log"]
    assert problems[0].reason == "no such file or directory"


def test_empty_file_has_no_source(tmp_path: Path) -> None:
    (tmp_path / "e").write_bytes(b"")
    assert open_source(InputFile(tmp_path / "e", "e")) is None


def test_special_files_inside_folders_are_reported_not_read(tmp_path: Path) -> None:
    import os

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ok.log").write_text("x")
    os.mkfifo(tmp_path / "d" / "pipe")
    (tmp_path / "d" / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    files, problems = expand_inputs([str(tmp_path / "d")])
    assert [f.path.name for f in files] == ["ok.log"]
    assert {(Path(p.display).name, p.reason) for p in problems} == {
        ("pipe", "not a regular file"),
        ("dangling", "broken symbolic link"),
        ("loop", "symbolic link to a folder: not followed"),  # every skipped link is reported
    }


def test_source_settings_are_checked_and_applied(tmp_path: Path) -> None:
    import pytest

    from garrison.core.errors import InputError
    from garrison.ingest.reader import check_source_options

    check_source_options({"evtx": {"isolate": "always", "chunk_timeout": 2}})
    for bad, why in [
        ({"nosuch": {}}, "no source named"),
        ({"evtx": {"colour": "red"}}, "no setting"),
        ({"evtx": {"format": "x"}}, "no setting"),
        ({"evtx": {"setting_choices": {}}}, "no setting"),
        ({"evtx": {"isolate": 3}}, "expected str"),
        ({"evtx": {"isolate": "sometimes"}}, "not one of"),
        ({"evtx": {"chunk_timeout": True}}, "expected float"),
    ]:
        with pytest.raises(InputError, match=why):
            check_source_options(bad)
    evtx = tmp_path / "x.evtx"
    evtx.write_bytes(b"ElfFile\x00" + b"\x00" * 4000)
    source = open_source(InputFile(evtx, "x"), {"evtx": {"isolate": "always"}})
    assert source is not None and source.isolate == "always"  # type: ignore[attr-defined]


folder_names = st.sampled_from(["a", "b", "out", "home", "x y"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tree=st.lists(st.lists(folder_names, min_size=0, max_size=3), min_size=1, max_size=8),
    excluded=st.lists(folder_names, min_size=1, max_size=3),
)
def test_excluded_folders_are_never_walked_and_reported_once(
    tmp_path: Path, tree: list[list[str]], excluded: list[str]
) -> None:
    import shutil

    root = tmp_path / "walk"
    shutil.rmtree(root, ignore_errors=True)
    wanted: set[Path] = set()
    for k, parts in enumerate(tree):
        folder = root.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{k}.log").write_text("x")
        wanted.add(folder / f"f{k}.log")
    target = root.joinpath(*excluded)
    files, problems = expand_inputs([str(root)], {target.resolve(): "test"})
    got = {f.path for f in files}
    assert got == {p for p in wanted if target not in p.parents}
    reported = [p.display for p in problems if p.reason == "not read: it is test"]
    assert reported == ([str(target)] if target.is_dir() else [])


def test_an_excluded_folder_named_as_input_is_reported_not_walked(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.log").write_text("x")
    files, problems = expand_inputs([str(tmp_path / "d")], {(tmp_path / "d").resolve(): "why"})
    assert files == [] and [(p.display, p.reason) for p in problems] == [
        (str(tmp_path / "d"), "not read: it is why")
    ]
