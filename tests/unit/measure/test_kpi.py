"""KPIs: reduction, MTTD/MTTA/MTTR, detector quality with labels, plots, the kpi command."""

import json

import pytest
from typer.testing import CliRunner

from garrison.core.errors import InputError
from garrison.correlate.service import AlertPipeline
from garrison.correlate.synthetic import generate
from garrison.correlate.workbench import Workbench
from garrison.interfaces.cli.app import app
from garrison.measure.kpi import compute_kpis, from_run, from_state, load_labels
from garrison.measure.kpi.plots import render
from garrison.store.state import StateDB
from garrison.triage.config import TriageConfig
from garrison.triage.service import TriageService
from garrison.triage.store import FindingStore


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A synthetic hunt output (findings.jsonl, incidents.jsonl) and its labels."""
    folder = tmp_path_factory.mktemp("run")
    scenario = generate(3000, n_users=120, n_chains=2, seed=3)
    cfg = TriageConfig()
    findings, incidents = AlertPipeline(cfg, TriageService(cfg)).process(scenario.findings)
    with (folder / "findings.jsonl").open("w") as fh:
        fh.writelines(json.dumps(f.to_ocsf()) + "\n" for f in findings)
    with (folder / "incidents.jsonl").open("w") as fh:
        fh.writelines(json.dumps(i.to_ocsf()) + "\n" for i in incidents)
    starts = sorted(c["first_time"] for c in scenario.chains)
    labels = {
        "malicious_files": [
            {"path": "synthetic-attack.log", "stage": "attack", "start": starts[0]}
        ],
        "entities": {"users": [], "hosts": [], "ips": [], "domains": []},
    }
    for chain in scenario.chains:
        for key in chain["entities"]:
            kind, value = key.split(":", 1)
            labels["entities"][kind + "s"].append(value)
    (folder / "labels.json").write_text(json.dumps(labels))
    return folder, scenario, findings, incidents


def test_kpis_from_a_run_with_labels(run):
    folder, scenario, findings, incidents = run
    data = from_run(folder)
    kpis = compute_kpis(data, load_labels(folder / "labels.json"))
    vol = kpis["volume"]
    assert vol["raw_findings"] == sum(f.count for f in findings) == 3000
    assert vol["incidents"] == len(incidents)
    assert vol["reduction_ratio_raw"] == round(3000 / len(incidents), 3)
    assert vol["incident_size"]["max"] == max(len(i.finding_uids) for i in incidents)
    sigma = kpis["detectors"]["sigma"]["labels"]
    assert sigma["tp"] == len(scenario.attack_findings) == 14
    assert sigma["precision"] == pytest.approx(14 / len(findings), abs=1e-3)
    assert sigma["roc_auc_confidence"] is not None and sigma["roc_auc_risk"] > 0.9
    det = kpis["detection"]
    assert det["stages_detected"] == 1 and det["mttd_s"]["n"] == 1
    ent = det["entities"]
    assert ent["total"] == len(scenario.attack_entities)
    assert ent["in_high_critical"] == ent["total"]
    worst = kpis["rules"][0]
    assert worst["labels"]["fp"] >= kpis["rules"][-1]["labels"]["fp"]
    assert set(kpis["by_criticality"]) == {"unknown"}


def test_mtta_mttr_and_analyst_precision_from_the_state(tmp_path):
    state = StateDB(tmp_path / "state.db")
    cfg = TriageConfig()
    pipeline = AlertPipeline(cfg, TriageService(cfg, store=FindingStore(state)), state)
    scenario = generate(800, n_users=40, n_chains=1, seed=5)
    _, incidents = pipeline.process(scenario.findings)
    bench = Workbench(cfg, state)
    bench.set_status(incidents[0].uid, "acknowledged")
    bench.dispose_incident(incidents[0].uid, "tp", resolve=True)
    noise = next(i for i in incidents if not any(u.startswith("atk") for u in i.finding_uids))
    bench.dispose_incident(noise.uid, "fp")
    kpis = compute_kpis(from_state(state))
    assert kpis["response"]["mtta_s"]["n"] == 2 and kpis["response"]["mttr_s"]["n"] == 1
    sigma = kpis["detectors"]["sigma"]
    assert sigma["tp"] == len(incidents[0].finding_uids)
    assert sigma["fp"] == len(noise.finding_uids)
    assert sigma["precision"] == pytest.approx(sigma["tp"] / sigma["reviewed"], abs=1e-3)


def test_plots_are_written_as_png_and_svg(run, tmp_path):
    folder, *_ = run
    data = from_run(folder)
    labels = load_labels(folder / "labels.json")
    written = render(compute_kpis(data, labels), data, labels, tmp_path)
    names = {p.name for p in written}
    assert {"kpi_volume.png", "kpi_volume.svg", "kpi_roc.png", "kpi_mttd.svg"} <= names
    assert all(p.stat().st_size > 1000 for p in written)
    assert (tmp_path / "kpi_volume.png").read_bytes()[:4] == b"\x89PNG"


def test_the_kpi_command(run, tmp_path):
    folder, *_ = run
    out = tmp_path / "kpi"
    result = CliRunner().invoke(
        app,
        [
            "kpi",
            "--run",
            str(folder),
            "--labels",
            str(folder / "labels.json"),
            "--out",
            str(out),
            "--home",
            str(tmp_path / "home"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "reduction: raw findings per incident" in result.output
    assert json.loads((out / "kpi.json").read_text())["volume"]["raw_findings"] == 3000
    missing = CliRunner().invoke(app, ["kpi", "--home", str(tmp_path / "empty")])
    assert missing.exit_code != 0


def test_bad_labels_are_input_errors(tmp_path):
    (tmp_path / "l.json").write_text("[1]")
    with pytest.raises(InputError, match="expected a JSON object"):
        load_labels(tmp_path / "l.json")
    (tmp_path / "l.json").write_text("{}")
    with pytest.raises(InputError, match="names no malicious"):
        load_labels(tmp_path / "l.json")
    with pytest.raises(InputError, match="not found"):
        load_labels(tmp_path / "nope.json")


def test_demo_style_labels_match_records_by_path(tmp_path):
    labels_dir = tmp_path / "data"
    labels_dir.mkdir()
    (labels_dir / "labels.json").write_text(
        json.dumps(
            {
                "stages": [
                    {
                        "name": "lsass",
                        "start": 1000,
                        "records": {"logs/win.jsonl": [7, 9]},
                        "entities": {"hosts": ["WS-1"], "users": ["CORP\\Al"]},
                    }
                ]
            }
        )
    )
    labels = load_labels(labels_dir)
    assert labels.stage_of([(str(labels_dir / "logs/win.jsonl"), 9)]) == "lsass"
    assert labels.stage_of([("elsewhere/logs/win.jsonl", 7)]) == "lsass"  # suffix match
    assert labels.stage_of([(str(labels_dir / "logs/win.jsonl"), 8)]) is None
    assert set(labels.entities) == {"host:ws-1", "user:al"}
