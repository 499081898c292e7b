"""Fuzz: syslog / auth.log through the source and the normalizer (10,000 cases).

Lines come from an auth.log grammar (the three header shapes, sshd/sudo/su/PAM messages
with hostile user names, addresses and counts) plus byte-level mutations; one
hypothesis-drawn seed per case (a failure prints the seed). Nothing escapes but
RawRecord / Quarantined and Normalized / RecordError; every non-blank line is one item.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.ingest.syslog import SyslogSource
from garrison.normalize.syslog import normalize_syslog
from tests.fuzz._shared import check_records, insert_or_delete

CASES = int(os.environ.get("GARRISON_FUZZ_CASES", "10000"))
SETTINGS = settings(
    max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)

HEADERS = [
    "Dec 10 06:55:46",
    "Jan  1 00:00:00",
    "Feb 30 01:02:03",
    "Jun 31 99:99:99",
    "<13>Mar  3 01:02:03.123",
    "<999>Mar  3 01:02:03",
    "2024-01-02T03:04:05.123+00:00",
    "2024-13-45T99:99:99Z",
    "<34>1 2024-01-02T03:04:05Z",
    "<34>1 -",
    "<34>99 x",
    "Dec 10 06:55:46.1234567891",
]
HOSTS = ["LabSZ", "host", "", "sshd[1]:", "fe80::1", "a b"]
TAGS = [
    "sshd[24200]: ",
    "sshd: ",
    "sudo: ",
    "su: ",
    "su[1]: ",
    "CRON[5]: ",
    "kernel: ",
    "sshd-session[9]: ",
    "",
    "x[]: ",
    "a[" + "9" * 40 + "]: ",
    'app 1 ID [a k="v"] ',
]
USERS = [
    "root",
    "invalid user admin",
    "x from 9.9.9.9 port 1",
    "a b",
    "",
    "é",
    "\\xff",
    "[preauth]",
    "user=root",
    " : TTY=x",
]
IPS = ["1.2.3.4", "::1", "999.1.1.1", "host.example", "", "1.2.3.4 port 5"]
MESSAGES = [
    "Failed password for {u} from {ip} port {p} ssh2",
    "Accepted publickey for {u} from {ip} port {p} ssh2: RSA SHA256:x",
    "Invalid user {u} from {ip} port {p}",
    "Connection closed by invalid user {u} {ip} port {p} [preauth]",
    "Received disconnect from {ip} port {p}:11: Bye [preauth]",
    "Disconnecting authenticating user {u} {ip} port {p}: Too many authentication failures",
    "Disconnecting: Too many authentication failures for {u} [preauth]",
    "error: maximum authentication attempts exceeded for {u} from {ip} port {p} ssh2",
    "reverse mapping checking getaddrinfo for {u} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!",
    "message repeated {p} times: [ Failed password for {u} from {ip} port {p} ssh2]",
    "PAM {p} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip} "
    " user={u}",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
    "ruser= rhost={ip}  user={u}",
    "pam_unix(su:session): session opened for user {u} by {u}",
    "pam_unix({u}:session): session closed for user {u}",
    "{u} : TTY=pts/0 ; PWD=/ ; USER={u} ; COMMAND=/bin/{u}",
    "{u} : {p} incorrect password attempts ; TTY=pts/0 ; USER=root ; COMMAND=x",
    "(to {u}) {u} on pts/0",
    "FAILED SU (to {u}) {u} on {p}",
    "+ pts/0 {u}:{u}",
    "FAILED su for {u} by {u}",
    "free text {u}",
]
JUNK = ["\x00", "\t", "\r", "\n", "[", "]", ":", " ", "\xff", "é", "\ud800"]
JUNK_BYTES = [j.encode("utf-8", "surrogatepass") for j in JUNK]


def line(rng: random.Random) -> str:
    msg = rng.choice(MESSAGES).format(
        u=rng.choice(USERS), ip=rng.choice(IPS), p=rng.choice(["22", "0", "99999999999", "x", ""])
    )
    return f"{rng.choice(HEADERS)} {rng.choice(HOSTS)} {rng.choice(TAGS)}{msg}"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-syslog") / "auth.log"


@SETTINGS
@given(seed=SEEDS)
def test_fuzz_syslog(seed: int, work: Path) -> None:
    rng = random.Random(seed)
    text = "\n".join(
        line(rng) if rng.random() < 0.9 else rng.choice(["", "garbage"])
        for _ in range(rng.randrange(1, 6))
    )
    data = insert_or_delete(rng, text.encode("utf-8", "surrogatepass"), (0, 0, 1, 3), JUNK_BYTES)
    work.write_bytes(data)
    items = list(SyslogSource().read(work))
    body = data.removeprefix(b"\xef\xbb\xbf")
    if not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        non_blank = [raw for raw in body.split(b"\n") if raw.decode("utf-8", "replace").strip()]
        assert len(items) == len(non_blank)
    check_records(items, normalize_syslog)
