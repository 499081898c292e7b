"""Email parsing on hostile input: never raises, caps sizes, reads only allowlisted headers."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.detect.ml.email.html import html_to_text
from garrison.detect.ml.email.parse import (
    MAX_TEXT,
    parse_fields,
    parse_input,
    parse_raw,
    strip_filter_headers,
)
from garrison.detect.ml.email.structure import STRUCTURAL, structural_features

PHISH = (
    'From: "security@paypal.com" <alerts@evil-login.example>\n'
    "Reply-To: collect@other-domain.example\n"
    "Subject: URGENT: verify your account\n"
    "Authentication-Results: mx.example.net; spf=fail smtp.mailfrom=evil-login.example; "
    "dkim=none; dmarc=fail\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=XX\n\n"
    "--XX\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
    + base64.b64encode(
        b"<html><body><p>Your account is suspended. Sign in immediately:</p>"
        b'<a href="http://192.168.4.2/login">https://www.paypal.com/signin</a>'
        b'<a href="https://bit.ly/x">here</a><form><input type="password"></form>'
        b"<script>alert(1)</script></body></html>"
    ).decode()
    + "\n--XX\nContent-Type: application/octet-stream\n"
    'Content-Disposition: attachment; filename="invoice.pdf.exe"\n\nTVqQAAMAAAAEAAAA\n--XX--\n'
)


def test_phish_structure() -> None:
    msg = parse_raw(PHISH)
    assert not msg.invalid
    assert msg.subject == "URGENT: verify your account"
    assert "suspended" in msg.text and "alert(1)" not in msg.text
    assert msg.html_only and msg.password_inputs == 1
    assert msg.auth == {"spf": "fail", "dkim": "none", "dmarc": "fail"}
    f = structural_features(msg)
    assert set(f) == set(STRUCTURAL)
    for name in (
        "ip_link",
        "shortener_link",
        "link_text_mismatch",
        "display_name_mismatch",
        "reply_to_elsewhere",
        "exec_attachment",
        "double_extension",
        "password_field",
        "auth_fail",
        "html_only",
    ):
        assert f[name] == 1.0, name
    assert f["urgency_words"] > 0 and f["credential_words"] > 0


def test_plain_ham_has_no_phishing_flags() -> None:
    msg = parse_raw(
        "From: Alice <alice@example.org>\nSubject: lunch\n\nSee you at noon. "
        "Notes at https://wiki.example.org/page\n"
    )
    f = structural_features(msg)
    assert f["links_off_sender_domain"] == 0.0 and f["display_name_mismatch"] == 0.0
    assert f["html_only"] == 0.0 and f["exec_attachment"] == 0.0


def test_quoted_printable_and_bad_charset() -> None:
    raw = (
        'Subject: =?x-unknown?q?caf=E9?=\nContent-Type: text/plain; charset="no-such"\n'
        "Content-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 =\nfree\n"
    )
    msg = parse_raw(raw)
    assert not msg.invalid and "café free" in msg.text


def test_huge_and_deep_messages_are_capped() -> None:
    big = "Subject: x\n\n" + "spam " * 1_000_000
    msg = parse_raw(big)
    assert len(msg.text) <= MAX_TEXT and msg.notes
    nested = "Subject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n"
    for i in range(60):
        nested += f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n"
    nested += "--b60\nContent-Type: text/plain\n\nbottom\n"
    assert not parse_raw(nested).invalid


def test_invalid_inputs_have_reasons() -> None:
    assert parse_raw("").invalid == "empty message"
    assert parse_raw("no headers at all just words").invalid
    assert parse_input([1, 2]).invalid == "not a JSON object"
    assert parse_input({"raw": 5}).invalid
    assert parse_input({"x": 1}).invalid
    assert parse_input({"subject": "", "body": ""}).invalid
    assert parse_input({"subject": 1, "body": "x"}).invalid


def test_fields_shape_detects_html() -> None:
    msg = parse_fields("hi", '<html><a href="http://1.2.3.4/">bank.com</a></html>')
    assert msg.has_html and msg.links and msg.links[0].text == "bank.com"
    assert structural_features(msg)["ip_link"] == 1.0


def test_filter_headers_stripped_and_never_read() -> None:
    raw = "X-Spam-Status: Yes, hits=9\n\tcontinued\nX-Spam: spam\nSubject: s\n\nbody text\n"
    clean = strip_filter_headers(raw)
    assert "X-Spam" not in clean and "continued" not in clean and "Subject: s" in clean
    assert structural_features(parse_raw(raw)) == structural_features(parse_raw(clean))


def test_html_parser_survives_garbage() -> None:
    out = html_to_text("<a href='x'><<<</a <script>never closed " + "<div>" * 10_000)
    assert isinstance(out.text, str)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_raw_never_raises_on_bytes(data: bytes) -> None:
    msg = parse_raw(data)
    assert msg.invalid or isinstance(msg.text, str)
    if not msg.invalid:
        assert set(structural_features(msg)) == set(STRUCTURAL)


_HEADER = st.sampled_from(
    [
        "From: ",
        "Reply-To: ",
        "Subject: ",
        "Content-Type: ",
        "Content-Transfer-Encoding: ",
        "Authentication-Results: ",
        "Content-Disposition: ",
        "MIME-Version: ",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_HEADER, st.text(max_size=80)), max_size=8), st.text(max_size=500))
def test_parse_raw_never_raises_on_header_soup(headers: list[tuple[str, str]], body: str) -> None:
    raw = "".join(name + value.replace("\n", " ") + "\n" for name, value in headers) + "\n" + body
    msg = parse_raw(raw)
    if not msg.invalid:
        structural_features(msg)
