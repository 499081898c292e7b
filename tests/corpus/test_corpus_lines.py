"""Corpus: every Zeek / auth file is read with nothing lost, and every file (logs and the
READMEs, licences and configs beside them) is recognised as the right format or as none.

Accounting: for each log, items read (records + quarantine entries) must equal the
non-blank, non-comment lines (`wc -l` minus headers/comments; the last line may lack its
newline), and the normalizer must map every record (quarantined by it: zero expected).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import garrison.normalize.builtin  # noqa: F401
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest import detect_format
from garrison.ingest.reader import InputFile, open_source
from garrison.normalize.base import NORMALIZERS

pytestmark = pytest.mark.corpus

#: What the sniffer must say for each kind of file in the two folders.
EXPECTED_FORMAT = {".log": "zeek", ".labeled": "zeek", ".md": None, ".config": None, "": None}


def data_lines(path: Path, fmt: str) -> int:
    count = 0
    with path.open("rb") as fh:
        for raw in fh:
            text = raw.decode("utf-8", "replace").strip()
            if text and not (fmt == "zeek" and text.startswith("#")):
                count += 1
    return count


def account(path: Path) -> tuple[str, int, int, int]:
    cls = detect_format(path)
    assert cls is not None, f"{path}: not recognised"
    records = quarantined = rejected = 0
    normalizer = NORMALIZERS.get(cls.format)
    for item in cls().read(path):
        if isinstance(item, Quarantined):
            quarantined += 1
            continue
        assert isinstance(item, RawRecord)
        records += 1
        try:
            normalizer(item)
        except Exception:
            rejected += 1
    return cls.format, records, quarantined, rejected


def zeek_files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "zeek-stratosphere").rglob("*") if p.is_file())


def test_sniffer_names_every_zeek_folder_file(corpus: Path) -> None:
    files = zeek_files(corpus)
    assert len(files) >= 30
    for path in files:
        cls = detect_format(path)
        want = EXPECTED_FORMAT.get(path.suffix, None if path.name == "LICENSE" else "zeek")
        assert (cls.format if cls else None) == want, path


def test_zeek_corpus_no_silent_loss(corpus: Path) -> None:
    total = 0
    for path in zeek_files(corpus):
        if detect_format(path) is None:
            continue
        fmt, records, quarantined, rejected = account(path)
        assert fmt == "zeek"
        assert records + quarantined == data_lines(path, "zeek"), path
        assert quarantined == 0 and rejected == 0, path
        total += records
    assert total == 23_641  # sum of `grep -vc "^#"` over the corpus Zeek logs


def test_zeek_labels_never_reach_fields(corpus: Path) -> None:
    path = corpus / "zeek-stratosphere/001-zeek-scenario-malicious/labeled-conn.log"
    cls = detect_format(path)
    assert cls is not None
    labels: dict[str, int] = {}
    for item in cls().read(path):
        assert isinstance(item, RawRecord)
        norm = NORMALIZERS.get("zeek")(item)
        assert "label" not in norm.fields and "detailedlabel" not in norm.fields
        label = item.meta["labels"]["label"]
        labels[label] = labels.get(label, 0) + 1
    assert labels == {"Background": 739, "Malicious": 244, "Benign": 9}  # the README's counts


def test_openssh_loghub(corpus: Path) -> None:
    path = corpus / "auth/openssh-loghub/OpenSSH_2k.log"
    fmt, records, quarantined, rejected = account(path)
    assert (fmt, records, quarantined, rejected) == ("syslog", 2000, 0, 0)
    cls = detect_format(path)
    assert cls is not None
    failed = accepted = 0
    for item in cls().read(path):
        assert isinstance(item, RawRecord)
        o = NORMALIZERS.get("syslog")(item).ocsf
        if o["class_uid"] == 3002 and o["activity_id"] == 1:
            failed += o["status"] == "Failure"
            accepted += o["status"] == "Success"
    # 383 + 135 "Failed password" + 4 "Failed none" + 2 "message repeated" lines
    assert (failed, accepted) == (524, 1)


def test_lanl_redteam(corpus: Path) -> None:
    path = corpus / "auth/lanl-redteam/redteam_processed.csv"
    fmt, records, quarantined, rejected = account(path)
    assert (fmt, records, quarantined, rejected) == ("csv", 749, 0, 0)
    cls = detect_format(path)
    assert cls is not None
    first = next(i for i in cls().read(path) if isinstance(i, RawRecord))
    norm = NORMALIZERS.get("csv")(first)
    assert norm.class_uid == 3002 and norm.ocsf["user"]["name"] == "U66"
    assert "redteam" not in norm.fields


def test_auth_folder_formats(corpus: Path) -> None:
    got = {
        p.name: (c.format if (c := detect_format(p)) else None)
        for p in sorted((corpus / "auth").rglob("*"))
        if p.is_file()
    }
    assert got == {
        "redteam_processed.csv": "csv",
        "OpenSSH_2k.log": "syslog",
        "OpenSSH_2k.log_structured.csv": "csv",
        "OpenSSH_2k.log_templates.csv": "csv",
        "README.md": None,
    }


def test_readme_becomes_one_unrecognised_quarantine(corpus: Path) -> None:
    path = corpus / "auth/openssh-loghub/README.md"
    source = open_source(InputFile(path, str(path)))
    assert source is not None
    items = list(source.read(path))
    assert len(items) == 1 and isinstance(items[0], Quarantined)
    assert items[0].reason.startswith("unrecognised format")
