"""ml.egress on the Stratosphere captures and the demo: what fires, and the false positives.

No capture in the corpus is labelled as exfiltration. The AndroidTester RAT (003) uploads
~42 MB to its C2 on 1337/TCP (the README's malicious connections): the one true positive.
The benign Windows hosts (008, 010) and the scan / honeypot captures must stay quiet at the
fixed operating point; the figures are printed (``pytest -s``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garrison.measure.ml_eval.egress_eval import evaluate

pytestmark = pytest.mark.corpus


def test_egress_on_stratosphere_and_the_demo(corpus: Path, tmp_path: Path) -> None:
    report = evaluate(corpus, tmp_path / "demo")
    for c in report["captures"]:
        print(
            f"\n{c['capture']} ({c['kind']}): {c['outbound_buckets']} outbound buckets, "
            f"{c['candidates']} candidates, {c['findings']} findings {c['verdicts']}, "
            f"by min_bytes {c['sweep_min_bytes']}"
        )
        for row in c["rows"]:
            print("   ", row["verdict"], "|", row["title"])
    print("\nno-exfiltration captures:", json.dumps(report["no_exfiltration_captures"]))
    demo = report["demo"]
    print("demo:", {k: v for k, v in demo.items() if k not in ("rows", "detector_stats")})
    for row in demo["rows"]:
        print("   ", row["title"], row["evidence_stages"])
    captures = {c["capture"]: c for c in report["captures"]}
    rat = captures["003-zeek-scenario-malicious"]
    assert rat["verdicts"] == {"true positive": 1}
    assert report["no_exfiltration_captures"]["false_positives"] == 0  # measured 0 / 737
    assert captures["010-zeek-mixed"]["candidates"] == 0  # its 77 MB are a video call
    assert demo["exfiltration_found"] and demo["false_positives"] == 0
    assert demo["findings"] == 2  # the exfiltration and the upload of the LSASS dump


def test_eval_egress_command_prints_and_writes_the_report(corpus: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from garrison.interfaces.cli.app import app

    out = tmp_path / "egress.json"
    result = CliRunner().invoke(
        app, ["eval", "egress", "--corpus", str(corpus), "--no-demo", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "0 false positives over" in result.stdout
    report = json.loads(out.read_text())
    assert report["no_exfiltration_captures"]["false_positives"] == 0
    assert "demo" not in report
