"""``garrison hunt FILE --intel bundle.json --out DIR``: a Zeek DNS query of a listed domain
becomes an intel finding with its evidence; unusable intel is reported, the hunt goes on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "intel"
RUNNER = (
    "import sys; sys.path.insert(0, {root!r}); import tests.support; "
    "from garrison.interfaces.cli.app import main; main()"
)
_HEAD = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tdns",
    "#open\t2024-03-01-00-00-00",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt"
    "\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tanswers\tTTLs",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount"
    "\tstring\tcount\tstring\tcount\tstring\tbool\tvector[string]\tvector[interval]",
]


def _dns(ts: str, uid: str, client: str, query: str) -> str:
    return (
        f"{ts}\t{uid}\t{client}\t40000\t10.0.0.2\t53\tudp\t42\t0.01\t{query}\t1\tC_INTERNET"
        "\t1\tA\t0\tNOERROR\tF\t203.0.113.1\t60.0"
    )


def test_hunt_with_a_stix_bundle_finds_the_listed_domain(tmp_path: Path, home: Path) -> None:
    log = tmp_path / "dns.log"
    lines = [
        *_HEAD,
        _dns("1709251300.0", "C1", "10.0.0.5", "www.example.org"),
        _dns("1709251301.0", "C2", "10.0.0.5", "x1.C2-Staging.example.net"),
        _dns("1709251302.0", "C3", "10.0.0.5", "x1.c2-staging.example.net"),
        _dns("1709251303.0", "C4", "10.0.0.7", "example.net"),
        "#close\t2024-03-01-01-00-00",
    ]
    log.write_text("\n".join(lines) + "\n")
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [')
    out = tmp_path / "out"
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER.format(root=str(ROOT)),
            "hunt",
            str(log),
            "--out",
            str(out),
            "--intel",
            str(GOLDEN / "bundle.json"),
            "--intel",
            str(broken),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"GARRISON_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 0, res.stderr
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text().splitlines()]
    intel = [f for f in findings if f["finding_info"]["analytic"]["uid"] == "intel"]
    assert len(intel) == 1
    (f,) = intel
    assert f["finding_info"]["title"] == "Threat intel: domain c2-staging.example.net (bundle.json)"
    assert f["confidence_score"] == 85 and f["count"] == 2
    assert f["finding_info"]["attacks"][0]["technique"]["uid"] == "T1071.004"
    assert [e["data"]["record_id"] for e in f["evidences"]] == [10, 11]
    assert {e["data"]["source_path"] for e in f["evidences"]} == {str(log)}
    assert {"type": "ip", "value": "10.0.0.5"} in f["resources"]
    assert f["unmapped"]["explanation"]["enrichment"]["intel"]  # triage saw the match
    stats = json.loads((out / "summary.json").read_text())["detectors"]["intel"]
    assert stats["files_failed"][str(broken)].startswith("not JSON")
    assert stats["unusable"]["stix: revoked"] == 1
    # the terminal says so too: loaded indicators, and the file that was not read
    assert "intel: " in res.stderr and "indicators from" in res.stderr
    assert f"intel file not read {broken}" in " ".join(res.stderr.split())
