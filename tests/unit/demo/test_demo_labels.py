"""labels.json is consistent with the files, and every labelled position is an attack record.

The strongest check re-runs the intrusion alone (it draws from its own random streams, so it
produces the same records without the background) and compares, per stage and file, the
attack records with the lines the labels point at.
"""

from __future__ import annotations

import json
from collections import Counter

from demo_support import SMALL, SmallDemo

from garrison.core.attack import technique_tactics
from garrison.demo.context import Gen
from garrison.demo.domains import Catalog
from garrison.demo.intrusion import Intrusion
from garrison.demo.netflow import CONN_FIELDS, DNS_FIELDS
from garrison.demo.recorder import SINKS, Recorder
from garrison.demo.scenario import STAGE_NAMES, cast_for
from garrison.demo.service import DEFAULT_START
from garrison.demo.world import build_world
from garrison.demo.writers import auth_line, zeek_line

EXPECTED_FILES = {
    "phishing-macro": {"logs/windows/events.jsonl", "logs/zeek/conn.log", "logs/zeek/dns.log"},
    "c2-dga-beacon": {"logs/zeek/conn.log", "logs/zeek/dns.log"},
    "discovery": {"logs/windows/events.jsonl", "logs/zeek/conn.log"},
    "password-spray": {"logs/windows/events.jsonl", "logs/zeek/conn.log"},
    "ssh-brute-force": {"logs/linux/auth.log", "logs/zeek/conn.log"},
    "lsass-dump": {"logs/windows/events.jsonl", "logs/zeek/conn.log"},
    "lateral-movement": {"logs/windows/events.jsonl", "logs/zeek/conn.log"},
    "exfil-rclone": {"logs/windows/events.jsonl", "logs/zeek/conn.log"},
    "exfil-dns-tunnel": {"logs/zeek/conn.log", "logs/zeek/dns.log"},
}


def _without_record_id(line: str) -> str:
    event = json.loads(line)
    event.pop("EventRecordID")
    return json.dumps(event, ensure_ascii=False)


def test_every_labelled_position_is_exactly_an_attack_record(small_demo: SmallDemo) -> None:
    world = build_world(SMALL["seed"], SMALL["users"], SMALL["hosts"], SMALL["days"], DEFAULT_START)
    rec = Recorder(world.start_us, world.end_us)
    Intrusion(Gen.attach(world, rec, Catalog(world), "intrusion"), cast_for(world)).run()
    render = {
        "auth": lambda r: auth_line(r.data, r.time_us),
        "conn": lambda r: zeek_line(r.data, CONN_FIELDS),
        "dns": lambda r: zeek_line(r.data, DNS_FIELDS),
        "win": lambda r: json.dumps(r.data, ensure_ascii=False),
    }
    expected: Counter[tuple[str, str, str]] = Counter()
    for sink, record in rec.all():
        if record.stage:  # the benign prelude (an admin's RDP logon) is not labelled
            expected[(record.stage, SINKS[sink], render[sink](record))] += 1
    found: Counter[tuple[str, str, str]] = Counter()
    for stage in small_demo.labels["stages"]:
        for rel, lines in stage["records"].items():
            text = small_demo.lines(rel)
            for line in lines:
                got = text[line - 1]
                if rel.endswith(".jsonl"):
                    got = _without_record_id(got)
                found[(stage["name"], rel, got)] += 1
    assert found == expected
    assert sum(expected.values()) == small_demo.labels["malicious_records"]


def test_stage_records_land_in_the_expected_files(small_demo: SmallDemo) -> None:
    stages = {s["name"]: s for s in small_demo.labels["stages"]}
    assert tuple(stages) == STAGE_NAMES
    for name, files in EXPECTED_FILES.items():
        assert set(stages[name]["records"]) == files, name
        assert all(stages[name]["records"].values())


def test_file_counts_add_up(small_demo: SmallDemo) -> None:
    labels = small_demo.labels
    labelled = small_demo.labelled()
    for rel, info in labels["files"].items():
        lines = small_demo.lines(rel)
        header = 8 if "/zeek/" in rel else 0
        data = len(lines) - header - (1 if header else 0)
        assert info["records"] == data
        bad = sum(1 for (f, _) in labelled if f == rel)
        assert info["malicious"] == bad and info["benign"] == data - bad
        for f, line in labelled:
            if f == rel:  # a record, never a header or the #close trailer
                assert header < line <= header + data
                assert not lines[line - 1].startswith("#")
    assert labels["records_total"] == sum(f["records"] for f in labels["files"].values())
    assert labels["malicious_records"] + labels["benign_records"] == labels["records_total"]


def test_stage_metadata_is_valid_attack_and_time(small_demo: SmallDemo) -> None:
    labels = small_demo.labels
    window = labels["time_range"]
    for stage in labels["stages"]:
        assert window["start"] <= stage["start"] <= stage["end"] < window["end"]
        assert stage["record_count"] == sum(len(v) for v in stage["records"].values())
        assert stage["tactic_ids"] and all(t.startswith("TA") for t in stage["tactic_ids"])
        for tech in stage["techniques"]:
            assert tech["name"], tech
            assert tech["tactic"] in technique_tactics(tech["id"]), tech
    starts = {s["name"]: s["start"] for s in labels["stages"]}
    assert (
        starts["phishing-macro"]
        < starts["c2-dga-beacon"]
        < starts["discovery"]
        < starts["password-spray"]
        < starts["ssh-brute-force"]
        < starts["lsass-dump"]
        < starts["lateral-movement"]
        < starts["exfil-rclone"]
        < starts["exfil-dns-tunnel"]
    )


def test_stage_entities_appear_in_that_stages_records(small_demo: SmallDemo) -> None:
    world = build_world(SMALL["seed"], SMALL["users"], SMALL["hosts"], SMALL["days"], DEFAULT_START)
    files = {rel: small_demo.lines(rel) for rel in small_demo.labels["files"]}
    for stage in small_demo.labels["stages"]:
        text = "\n".join(
            files[rel][line - 1].lower()
            for rel, lines in stage["records"].items()
            for line in lines
        )
        ents = stage["entities"]
        assert ents["hosts"] and ents["ips"], stage["name"]
        for value in ents["users"] + ents["ips"] + ents["domains"]:
            assert value.lower() in text, (stage["name"], value)
        for host in ents["hosts"]:
            assert host.lower() in text or world.by_name[host].ip in text, (stage["name"], host)
