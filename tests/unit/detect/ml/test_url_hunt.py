"""``ml.url`` through the real hunt pipeline on a Zeek ``http.log``: the shipped model,
one finding per phishing URL however often it is requested, evidences citing lines."""

from __future__ import annotations

from pathlib import Path

from garrison.core.config import GarrisonConfig
from garrison.detect.ml.url.detector import UrlDetector
from garrison.detect.ml.url.model import load_model
from garrison.pipeline import HuntService
from garrison.store import MemoryEventStore, StateDB

FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth",
          "method", "host", "uri"]  # fmt: skip
PHISH = ("paypal.com.account-verify.secure-login.example.tk", "/webscr/cmd=login/signin.php")
ROWS = [
    ("10.0.0.5", "en.wikipedia.org", "/wiki/Phishing"),
    ("10.0.0.5", *PHISH),
    ("10.0.0.7", *PHISH),
    ("10.0.0.5", "docs.python.org", "/3/library/urllib.parse.html"),
    ("10.0.0.5", *PHISH),
    ("10.0.0.9", "-", "-"),
]


def _http_log(path: Path) -> Path:
    lines = ["#separator \\x09", "#path\thttp", "#fields\t" + "\t".join(FIELDS)]
    for i, (client, host, uri) in enumerate(ROWS):
        ts = f"{1_700_000_000 + i}.000000"
        cols = [ts, f"C{i}", client, "50000", "203.0.113.9", "80", "1", "GET", host, uri]
        lines.append("\t".join(cols))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_one_finding_per_phishing_url(tmp_path: Path) -> None:
    log = _http_log(tmp_path / "http.log")
    detector = UrlDetector(load_model())
    service = HuntService(
        GarrisonConfig(home=tmp_path / "home"),  # the home is never read as input
        MemoryEventStore(),
        StateDB.memory(),
        detectors=[detector],
    )
    report = service.run([str(log)])
    found = [f for f in report.findings if f.analytic_uid == "ml.url"]
    assert len(found) == 1, [f.title for f in found]
    finding = found[0]
    assert "example.tk" in finding.title
    assert {a.technique_uid for a in finding.attacks} == {"T1566.002", "T1204.001"}
    assert finding.explanation["requests"] == 3 and finding.explanation["clients"] == 2
    assert sorted(e.record_id for e in finding.evidences) == [5, 6, 8]  # lines of http.log
    assert {e.value for e in finding.entities} >= {"10.0.0.5", "10.0.0.7", "example.tk"}
    stats = report.detector_stats["ml.url"]
    assert stats["scored"] == 3 and stats["malicious_urls"] == 1
