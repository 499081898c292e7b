"""Syslog normalizer: sshd/sudo/su/PAM outcomes, injection-resistant parsing, fallbacks."""

from __future__ import annotations

from typing import Any

import pytest

from garrison.core.errors import RecordError
from garrison.core.events import RawRecord
from garrison.normalize.base import Normalized
from garrison.normalize.syslog import normalize_syslog


def norm(message: str, program: str = "sshd", **extra: Any) -> Normalized:
    data = {
        "time": 1000,
        "hostname": "srv1",
        "program": program,
        "pid": 7,
        "message": message,
        **extra,
    }
    return normalize_syslog(RawRecord(1, data, message))


def test_failed_password_invalid_user() -> None:
    n = norm("Failed password for invalid user admin from 1.2.3.4 port 2222 ssh2")
    o = n.ocsf
    assert (n.class_uid, o["activity_id"], o["status"], o["status_id"]) == (3002, 1, "Failure", 2)
    assert o["user"]["name"] == o["actor"]["user"]["name"] == "admin"
    assert o["src_endpoint"] == {"ip": "1.2.3.4", "port": 2222}
    assert o["dst_endpoint"] == {"hostname": "srv1"} and o["device"] == {"hostname": "srv1"}
    assert (o["auth_protocol"], o["logon_type"], o["unmapped"]["invalid_user"]) == (
        "password",
        "ssh",
        True,
    )
    assert n.fields["src_ip"] == "1.2.3.4" and n.fields["program"] == "sshd"


def test_accepted_publickey() -> None:
    o = norm("Accepted publickey for bob from 10.0.0.1 port 5 ssh2: ED25519 SHA256:abc").ocsf
    assert (o["status"], o["auth_protocol"], o["user"]["name"]) == ("Success", "publickey", "bob")
    assert o["unmapped"]["invalid_user"] is False


@pytest.mark.parametrize(
    ("message", "ip", "user"),
    [
        (
            "Failed password for invalid user a from 6.6.6.6 port 1 ssh2 from 1.2.3.4 port 5 ssh2",
            "1.2.3.4",
            "a from 6.6.6.6 port 1 ssh2",
        ),
        ("Invalid user b from 6.6.6.6 from 1.2.3.4 port 5", "1.2.3.4", "b from 6.6.6.6"),
        (
            "Connection closed by invalid user c 6.6.6.6 port 1 [preauth] 1.2.3.4 port 5 [preauth]",
            "1.2.3.4",
            "c 6.6.6.6 port 1 [preauth]",
        ),
    ],
)
def test_injected_addresses_in_user_names_do_not_win(message: str, ip: str, user: str) -> None:
    o = norm(message).ocsf
    assert o["src_endpoint"]["ip"] == ip and o["user"]["name"] == user


def test_repeated_message_carries_count() -> None:
    o = norm("message repeated 7 times: [ Failed password for root from 1.2.3.4 port 9 ssh2]").ocsf
    assert (o["count"], o["status"], o["activity_id"]) == (7, "Failure", 1)


@pytest.mark.parametrize(
    ("message", "event", "activity", "status"),
    [
        ("Invalid user x from 1.2.3.4 port 22", "invalid_user", 99, "Failure"),
        ("Connection closed by 1.2.3.4 port 22 [preauth]", "connection_closed", 99, "Unknown"),
        ("Received disconnect from 1.2.3.4: 11: Bye Bye [preauth]", "disconnect", 99, "Unknown"),
        (
            "Disconnecting authenticating user root 1.2.3.4 port 22: Too many authentication "
            "failures [preauth]",
            "too_many_failures",
            99,
            "Failure",
        ),
        (
            "Address 1.2.3.4 maps to x.example, but this does not map back to the address"
            " - POSSIBLE BREAK-IN ATTEMPT!",
            "break_in_attempt",
            99,
            "Unknown",
        ),
        (
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
            "rhost=1.2.3.4  user=root",
            "pam_auth_failure",
            99,
            "Failure",
        ),
        ("pam_unix(sshd:session): session closed for user root", "session_closed", 2, "Success"),
    ],
)
def test_auxiliary_auth_lines(message: str, event: str, activity: int, status: str) -> None:
    o = norm(message).ocsf
    assert (o["class_uid"], o["unmapped"]["auth_event"], o["activity_id"], o["status"]) == (
        3002,
        event,
        activity,
        status,
    )


def test_sudo_command_is_process_activity() -> None:
    n = norm("alice : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/sh -c 'a ; b'", "sudo")
    o = n.ocsf
    assert (n.class_uid, o["activity_id"]) == (1007, 1)
    assert o["actor"]["user"]["name"] == "alice" and o["user"]["name"] == "root"
    assert o["process"]["cmd_line"] == "/bin/sh -c 'a ; b'"
    assert o["process"]["file"]["path"] == "/bin/sh"


def test_sudo_failures_are_authentication() -> None:
    o = norm(
        "bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/id",
        "sudo",
    ).ocsf
    assert (o["class_uid"], o["status"], o["count"], o["logon_type"]) == (
        3002,
        "Failure",
        3,
        "sudo",
    )
    assert o["user"]["name"] == "bob" and o["unmapped"]["target_user"] == "root"


@pytest.mark.parametrize(
    ("message", "ok"),
    [
        ("(to root) alice on pts/0", True),
        ("FAILED SU (to root) alice on pts/0", False),
        ("Successful su for root by alice", True),
        ("FAILED su for root by alice", False),
        ("+ pts/0 alice:root", True),
        ("- pts/0 alice:root", False),
    ],
)
def test_su(message: str, ok: bool) -> None:
    o = norm(message, "su").ocsf
    assert o["class_uid"] == 3002 and o["status"] == ("Success" if ok else "Failure")
    assert o["user"]["name"] == "root" and o["actor"]["user"]["name"] == "alice"
    assert o["logon_type"] == "su"


def test_everything_else_is_base_event() -> None:
    n = norm("Server listening on 0.0.0.0 port 22.")
    assert n.class_uid == 0 and n.ocsf["message"] == "Server listening on 0.0.0.0 port 22."
    assert n.fields == {
        "hostname": "srv1",
        "program": "sshd",
        "pid": 7,
        "message": "Server listening on 0.0.0.0 port 22.",
    }
    assert norm("Accepted password for x", "cron").class_uid == 0  # not sshd: not parsed


def test_flags_and_missing_header() -> None:
    o = norm("x", "app", year_inferred=True).ocsf
    assert o["metadata"]["year_inferred"] is True
    with pytest.raises(RecordError):
        normalize_syslog(RawRecord(1, "just a string", "x"))
