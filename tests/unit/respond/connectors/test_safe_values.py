"""The value checks every connector and ``perform`` rely on: accepted shapes come back
canonical, and hostile text (shell metacharacters, line breaks, leading dashes, zones)
never passes."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from garrison.respond.connectors import safe

#: Characters that mean something to a shell, nft, an SMTP dialogue or an argv parser.
META = set(";|&$`<>(){}[]'\"\\ \t\r\n*?!#~%,") | {"\x00", "\x1b"}


@pytest.mark.parametrize(
    ("value", "canonical"),
    [("192.0.2.1", "192.0.2.1"), ("2001:DB8::1", "2001:db8::1"), ("::ffff:10.0.0.1", "10.0.0.1")],
)
def test_ip_canonical(value: str, canonical: str) -> None:
    assert str(safe.ip(value)) == canonical


@pytest.mark.parametrize(
    "bad", ["fe80::1%eth0", "fe80::1%; rm -rf /", "10.0.0.1 ", "10.0.0.0/8", "", "x", 7]
)
def test_ip_refuses(bad: object) -> None:
    with pytest.raises(ValueError):
        safe.ip(bad)


@pytest.mark.parametrize("good", ["web01", "web01.corp.example", "DC_1", "10.0.0.5", "host-2."])
def test_hostname_accepts(good: str) -> None:
    assert safe.hostname(good)


@pytest.mark.parametrize(
    "bad", ["-rf", "web01;reboot", "web01 --all", "$(id)", "a..b", "web\n01", "", "a" * 300]
)
def test_hostname_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        safe.hostname(bad)


@pytest.mark.parametrize("good", ["alice", "CORP\\alice", "alice@corp.example", "WS01$", "a.b-c"])
def test_username_accepts(good: str) -> None:
    assert safe.username(good) == good


@pytest.mark.parametrize("bad", ["-alice", "alice bob", "al'ice", "a$b", "alice\r\n", "$x"])
def test_username_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        safe.username(bad)


@pytest.mark.parametrize(
    "bad",
    ["soc@example.org\r\nBcc: x@y.org", "Soc <soc@example.org>", "a@b@c.org", "@example.org",
     "soc@", "so c@example.org", "soc@exa_mple.org", "soc@example.org,evil@x.org"],
)  # fmt: skip
def test_email_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        safe.email(bad)


def test_emails_and_durations() -> None:
    assert safe.emails("a@example.org") == ("a@example.org",)
    assert safe.emails(["a@example.org", "b.c+d@example.org"])[1] == "b.c+d@example.org"
    with pytest.raises(ValueError):
        safe.emails([])
    assert [safe.duration(d) for d in ("90s", "30m", "4h", "2d")] == [90, 1800, 14400, 172800]
    for bad in ("0s", "1w", "1 d", "-1h", "1h;"):
        with pytest.raises(ValueError):
            safe.duration(bad)


def test_errors_quote_hostile_text_escaped_and_short() -> None:
    with pytest.raises(ValueError) as err:
        safe.hostname("x\x1b[2J\r\n" + "y" * 500)
    message = str(err.value)
    assert "\x1b" not in message and "\n" not in message and len(message) < 120


def test_secret_repr_names_the_variable_only() -> None:
    secret = safe.Secret("hunter2", "HOOK_SECRET")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)
    assert "HOOK_SECRET" in repr(secret) and secret.reveal() == "hunter2"


_hostile = st.one_of(
    st.text(),
    st.tuples(st.sampled_from(["web01", "alice", "10.0.0.1", "a@example.org"]),
              st.sampled_from(sorted(META)), st.text()).map("".join),
)  # fmt: skip


@given(_hostile)
@example("a%b@example.org")
@example("-x@example.org")
@example("fe80::1%eth0")
@example("web01\n")
def test_nothing_accepted_carries_a_metacharacter(text: str) -> None:
    for check in (safe.hostname, safe.username, safe.email, safe.token, safe.key):
        try:
            out = str(check(text))
        except ValueError:
            continue
        bad = META - ({"\\"} if check is safe.username else set())
        bad -= {"$"} if check is safe.username else set()
        assert not (set(out) & bad), (check.__name__, out)
        assert not out.startswith("-")
        if check is safe.username and "$" in out:
            assert re.fullmatch(r"[^$]+\$", out)


@given(st.text())
def test_header_and_text_never_carry_a_line_break(text: str) -> None:
    for out in (safe.header(text), safe.text(text)):
        assert "\r" not in out and "\n" not in out and out.isprintable()
