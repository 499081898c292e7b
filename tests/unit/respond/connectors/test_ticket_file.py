"""The JSON-lines ticket sink: one open per idempotency key even under concurrent writers
(processes), the same ticket id on a repeat, the undo appending one close record."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.config import load_connectors
from garrison.respond.connectors.tickets import ticket_id
from garrison.respond.perform import perform


def _sink(path: Path):
    return load_connectors({"tk": {"type": "ticket-file", "path": str(path)}}, env={})["tk"]


def _open(key: str = "key-1", undo: bool = False) -> Delivery:
    params = {"queue": "soc", "title": "High incident\r\non web01", "priority": "high"}
    subject = {"uid": "inc-9", "kind": "incident", "title": "t"}
    return Delivery("ticket.open", params, key, "pb", "ticket", subject, undo)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_open_once_per_key_and_same_id(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    sink = _sink(path)
    first = perform(_open(), {"tk": sink}, {"tickets": "tk"}, live=True)
    again = perform(_open(), {"tk": sink}, {"tickets": "tk"}, live=True)
    other = perform(_open("key-2"), {"tk": sink}, {"tickets": "tk"}, live=True)
    assert first.reference == again.reference == ticket_id("key-1") != other.reference
    assert "already open" in again.detail
    records = _lines(path)
    assert [r["record"] for r in records] == ["open", "open"]
    assert records[0]["title"] == "High incident\\r\\non web01"  # made visible by perform
    assert records[0]["subject"] == {"uid": "inc-9", "kind": "incident", "title": "t"}


def test_undo_appends_one_close(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    sink = _sink(path)
    perform(_open(), {"tk": sink}, {"tickets": "tk"}, live=True)
    closed = perform(_open(undo=True), {"tk": sink}, {"tickets": "tk"}, live=True)
    again = perform(_open(undo=True), {"tk": sink}, {"tickets": "tk"}, live=True)
    assert closed.detail == "closed" and again.detail == "already closed"
    assert [r["record"] for r in _lines(path)] == ["open", "close"]
    with pytest.raises(ConnectorError, match="no ticket"):
        sink.send(_open("never-opened", undo=True))


def test_check_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    receipt = _sink(path).check(_open())
    assert receipt.reference == ticket_id("key-1") and not path.exists()
    with pytest.raises(ConnectorError, match="cannot write"):
        _sink(tmp_path / "absent" / "t.jsonl").check(_open())


def test_a_torn_last_line_is_passed_over_and_not_extended(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_text('{"record": "open", "key": "x"', encoding="utf-8")  # no newline: torn
    _sink(path).send(_open())
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["key"] == "key-1"


def _writer(path: str, n: int) -> None:
    sink = _sink(Path(path))
    for i in range(n):
        sink.send(_open(f"key-{i % 5}"))


def test_concurrent_processes_write_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), 20)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    keys = [r["key"] for r in _lines(path)]
    assert sorted(keys) == [f"key-{i}" for i in range(5)]
