"""``@audited``: one entry per call, ok or error (type only), the log passed in as a service."""

import pytest

from garrison.govern.audit import AuditKeyError, MemoryAuditLog, audited, open_audit


class Vault:
    def __init__(self, audit):
        self.audit = audit
        self.calls = 0

    @audited(
        "vault.rotate",
        target=lambda self, name, *a, **k: name,
        details=lambda self, name, password="", note="": {"password": password, "note": note},
        result=lambda r, *a, **k: {"version": r},
    )
    def rotate(self, name, password="", note=""):
        self.calls += 1
        if name == "bad":
            raise ValueError(f"cannot rotate: wrong password {password}")
        return 7

    @audited("vault.broken_describer", target=lambda self, x: 1 / 0)
    def odd(self, x):
        return x


def test_ok_call_writes_one_entry_with_result():
    log = MemoryAuditLog()
    assert Vault(log).rotate("db", password="p4ss", note="weekly") == 7  # noqa: S106 - a fake password the log must redact
    (entry,) = log.entries()
    assert (entry.action, entry.target, entry.outcome) == ("vault.rotate", "db", "ok")
    assert entry.details_obj() == {"password": "[REDACTED]", "note": "weekly", "version": 7}
    assert log.verify().ok


def test_error_call_records_the_type_not_the_message_and_reraises():
    log = MemoryAuditLog()
    vault = Vault(log)
    with pytest.raises(ValueError, match="wrong password"):
        vault.rotate("bad", password="p4ss")  # noqa: S106 - a fake password the log must redact
    (entry,) = log.entries()
    assert entry.outcome == "error:ValueError"
    assert "p4ss" not in repr(entry) and "wrong password" not in repr(entry)
    assert vault.calls == 1


def test_keyword_calls_are_described_the_same():
    log = MemoryAuditLog()
    Vault(log).rotate(name="db", note="n")
    assert log.entries()[0].target == "db"


def test_a_failing_describer_does_not_hide_the_action():
    log = MemoryAuditLog()
    assert Vault(log).odd(3) == 3
    assert log.entries()[0].target == "<unavailable: ZeroDivisionError>"


def test_an_action_that_cannot_be_audited_is_refused(home):
    log = open_audit(home)
    log.ready()
    (home / "keys" / "audit.key").chmod(0o644)
    vault = Vault(open_audit(home))
    with pytest.raises(AuditKeyError):
        vault.rotate("db")
    assert vault.calls == 0


def test_without_a_log_the_decorator_says_so():
    class NoLog:
        @audited("x")
        def run(self):
            return 1

    with pytest.raises(TypeError, match="audit"):
        NoLog().run()


def test_explicit_log_getter():
    log = MemoryAuditLog()

    @audited("fn.call", target=lambda x, **k: x, log=lambda *a, **k: k["audit"])
    def fn(x, audit):
        return x * 2

    assert fn(2, audit=log) == 4
    assert log.entries()[0].target == "2"
