"""`garrison hunt` over the real corpus folders: every file read, every record accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garrison.core.config import load_config
from garrison.outputs import write_outputs
from garrison.pipeline import HuntService

pytestmark = [pytest.mark.corpus]


def _hunt(paths: list[Path], tmp_path: Path) -> dict:
    cfg = load_config(tmp_path / "home")
    cfg.detectors.disabled = list(_all_detectors())  # ingestion only: detectors have own tests
    report = HuntService.open(cfg).run([str(p) for p in paths])
    return write_outputs(report, tmp_path / "out")


def _all_detectors() -> list[str]:
    from garrison.detect import DETECTORS

    return DETECTORS.names()


def _assert_accounted(summary: dict) -> None:
    assert summary["records_read"] == summary["events_stored"] + summary["records_quarantined"]
    assert summary["files_failed"] == []


def test_evtx_attack_samples_all_277_files(corpus: Path, tmp_path: Path) -> None:
    folder = corpus / "evtx-attack-samples"
    summary = _hunt([folder], tmp_path)
    _assert_accounted(summary)
    evtx = summary["per_source"]["evtx"]
    assert evtx["files"] == 277
    assert summary["events_stored"] >= 8255
    quarantine = [json.loads(x) for x in (tmp_path / "out/quarantine.jsonl").open()]
    assert all(q["reason"] for q in quarantine)


@pytest.mark.parametrize("sub", ["zeek-stratosphere", "auth/openssh-loghub", "mordor"])
def test_other_corpus_folders(corpus: Path, tmp_path: Path, sub: str) -> None:
    summary = _hunt([corpus / sub], tmp_path)
    _assert_accounted(summary)
    assert summary["events_stored"] > 0


def test_openssh_every_line_is_an_event(corpus: Path, tmp_path: Path) -> None:
    summary = _hunt([corpus / "auth/openssh-loghub/OpenSSH_2k.log"], tmp_path)
    assert summary["records_read"] == 2000
    assert summary["events_stored"] == 2000


def test_second_ingest_stores_nothing_new(corpus: Path, tmp_path: Path) -> None:
    folder = corpus / "mordor"
    first = _hunt([folder], tmp_path)
    second = _hunt([folder], tmp_path)
    assert first["events_new"] == first["events_stored"] > 0
    assert second["events_new"] == 0
