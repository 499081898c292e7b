"""The Sigma engine on real data: SigmaHQ's regression suite and the EVTX attack samples.

Events come through the real ingest path: the EVTX source and the Windows normalizer, as
``garrison hunt`` reads them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from garrison.core.events import Event
from garrison.detect.sigma import load_detector
from garrison.ingest.reader import InputFile, batches, open_source
from garrison.pipeline import build_events

pytestmark = pytest.mark.corpus

RULE_DIRS = ("rules", "rules-emerging-threats", "rules-threat-hunting")


def events_of_file(path: Path) -> list[Event]:
    """Every event of one file through the real source + normalizer."""
    import garrison.normalize.builtin  # noqa: F401  (registers the normalizers)

    file = InputFile(path, str(path))
    source = open_source(file)
    out: list[Event] = []
    if source is None:
        return out
    for batch in batches(source, file, 5000):
        events, _ = build_events(batch, 0)
        out.extend(events)
    return out


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sigma_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sigma-home")


def windows_rule_files(corpus: Path) -> list[Path]:
    """SigmaHQ's Windows rules: product windows, or the product-less antivirus category."""
    out = []
    for d in RULE_DIRS:
        for path in sorted((corpus / "sigma" / d).rglob("*.yml")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if "product: windows" in text or "category: antivirus" in text:
                out.append(path)
    return out


def regression_cases(corpus: Path) -> Iterator[tuple[Path, str, int]]:
    for info in sorted((corpus / "sigma" / "regression_data").rglob("info.yml")):
        meta = yaml.safe_load(info.read_text(encoding="utf-8"))
        rule_id = meta["rule_metadata"][0]["id"]
        tests = [t for t in meta.get("regression_tests_info", []) if t.get("type") == "evtx"]
        if not tests:
            continue
        want = max(int(t.get("match_count", 1) or 1) for t in tests)
        yield info.parent, rule_id, want


def test_sigmahq_regression_suite(corpus: Path, sigma_home: Path) -> None:
    cases = list(regression_cases(corpus))
    assert len(cases) == 202
    det = load_detector([corpus / "sigma" / d for d in RULE_DIRS], sigma_home)
    engine = det.engine
    failures = []
    started = time.perf_counter()
    for folder, rule_id, want in cases:
        (evtx_file,) = folder.glob("*.evtx")
        events = events_of_file(evtx_file)
        assert events, f"no events read from {evtx_file}"
        got = 0
        for ev in events:
            matches, _ = engine.match(ev.fields, ev.provenance.source_format, ev.class_uid)
            got += sum(1 for m in matches if engine.rules[m.rule].meta.id == rule_id)
        if got < want:
            failures.append(f"{folder.name} ({rule_id}): {got} < {want}")
    elapsed = time.perf_counter() - started
    print(f"regression suite: {len(cases) - len(failures)}/{len(cases)} in {elapsed:.1f} s")
    assert not failures, failures


def test_attack_samples_against_reference(corpus: Path, sigma_home: Path) -> None:
    det = load_detector(windows_rule_files(corpus), sigma_home)
    assert det.ruleset.loaded > 2800
    files = sorted((corpus / "evtx-attack-samples").rglob("*.evtx"))
    assert len(files) == 277
    files_hit: set[str] = set()
    rules_hit: set[str] = set()
    events = 0
    for path in files:
        for ev in events_of_file(path):
            events += 1
            matches, _ = det.engine.match(ev.fields, ev.provenance.source_format, ev.class_uid)
            if matches:
                files_hit.add(str(path))
                rules_hit.update(det.engine.rules[m.rule].meta.uid for m in matches)
    print(
        f"attack samples: {events} events, {len(files_hit)}/277 files with a hit, "
        f"{len(rules_hit)} distinct rules (reference 212 files, 369 rules)"
    )
    assert events >= 8000
    assert len(files_hit) >= 212
    assert len(rules_hit) >= 369
