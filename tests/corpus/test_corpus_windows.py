"""The whole Windows corpus through the EVTX / Mordor sources and the Windows normalizer.

- evtx-attack-samples: 277 files, 8,255 events. Every record must normalize (the set is
  clean: nothing quarantined), every file must be sniffed as EVTX, positions must be the
  records' System/EventRecordID, and the OCSF classes must cover the mapped events.
- mordor: the 6 OTRF zips, 13,020 JSON lines (one blank line skipped). Every line must
  normalize; channels come out canonical, NXLog transport metadata stays out of fields.

The counts are printed (``pytest -s``) and asserted.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest.evtx import EvtxSource
from garrison.ingest.mordor import MordorSource
from garrison.ingest.sniff import detect_format
from garrison.normalize.mordor import normalize_mordor
from garrison.normalize.windows import normalize_evtx

pytestmark = pytest.mark.corpus

EVTX_FILES = 277
EVTX_EVENTS = 8_255
MORDOR_LINES = {
    "credential_access__host__cmd_sam_copy_esentutl.zip": 915,
    "credential_access__host__empire_mimikatz_logonpasswords.zip": 6_026,
    "credential_access__host__psh_lsass_memory_dump_comsvcs.zip": 184,
    "lateral_movement__host__covenant_copy_smb_CreateRequest.zip": 506,
    "lateral_movement__host__empire_psexec_dcerpc_tcp_svcctl.zip": 4_348,
    "lateral_movement__host__schtask_create.zip": 1_041,
}


def test_evtx_attack_samples(corpus: Path) -> None:
    files = sorted((corpus / "evtx-attack-samples").rglob("*.evtx"))
    assert len(files) == EVTX_FILES
    source = EvtxSource()
    events, quarantined, rejected = 0, 0, 0
    classes: Counter[int] = Counter()
    for path in files:
        cls = detect_format(path)
        assert cls is not None and cls.format == "evtx", path
        for item in source.read(path):
            if isinstance(item, Quarantined):
                quarantined += 1
                continue
            assert isinstance(item, RawRecord)
            assert item.position == item.data["Event"]["System"]["EventRecordID"]
            try:
                norm = normalize_evtx(item)
            except RecordError:
                rejected += 1
                continue
            events += 1
            classes[norm.class_uid] += 1
    print(
        f"\nevtx-attack-samples: {len(files)} files, {events} events, {quarantined} "
        f"quarantined by the source, {rejected} rejected by the normalizer; OCSF classes "
        f"{dict(sorted(classes.items()))}"
    )
    assert (events, quarantined, rejected) == (EVTX_EVENTS, 0, 0)
    assert classes[1007] > 1000 and classes[3002] > 100 and classes[4001] > 100
    assert classes[1001] > 100 and classes[4003] >= 1 and classes[0] > 5000


def test_mordor_zips(corpus: Path) -> None:
    zips = sorted((corpus / "mordor").glob("*.zip"))
    assert [z.name for z in zips] == sorted(MORDOR_LINES)
    source = MordorSource()
    total = 0
    for path in zips:
        cls = detect_format(path)
        assert cls is not None and cls.format == "mordor", path
        items = list(source.read(path))
        assert all(isinstance(i, RawRecord) for i in items), path.name
        channels: Counter[str] = Counter()
        for item in items:
            assert isinstance(item, RawRecord)
            norm = normalize_mordor(item)
            channels[norm.fields["Channel"]] += 1
            assert "host" not in norm.fields and "EventReceivedTime" not in norm.fields
            assert norm.ocsf["device"]["hostname"] == norm.fields["Computer"]
        assert len(items) == MORDOR_LINES[path.name], path.name
        assert "security" not in channels
        total += len(items)
        print(f"\n{path.name}: {len(items)} events, channels {dict(channels)}")
    assert total == 13_020
