"""Generic phishing and spam vocabulary, written by hand (not learnt from any corpus).

Each lexicon is a set of lower-case phrases; a message's count is how many of them occur in
its subject and text. These words mean the same in 2002 spam and in a 2025 credential
phish: pressure to act now, requests for credentials or payment details, account threats.
"""

from __future__ import annotations

import re

URGENCY = (
    "urgent",
    "immediately",
    "as soon as possible",
    "within 24 hours",
    "within 48 hours",
    "act now",
    "final notice",
    "last chance",
    "expires today",
    "expire",
    "suspended",
    "suspension",
    "will be closed",
    "will be terminated",
    "deadline",
    "limited time",
    "right away",
    "respond now",
    "action required",
    "immediate action",
    "failure to",
    "unusual activity",
    "unauthorized",
    "locked",
    "restricted",
    "verify within",
)
CREDENTIAL = (
    "password",
    "passcode",
    "login",
    "log in",
    "sign in",
    "signin",
    "username",
    "verify your",
    "confirm your",
    "update your",
    "validate your",
    "account details",
    "billing information",
    "payment information",
    "credit card",
    "card number",
    "ssn",
    "social security",
    "security question",
    "pin number",
    "bank account",
    "wire transfer",
    "invoice",
    "payment",
    "mailbox",
    "quota",
    "reactivate",
    "re-activate",
    "click here",
    "click below",
    "open the attachment",
    "enable content",
    "enable editing",
)
SHORTENERS = frozenset(
    {
        "bit.ly",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "rebrand.ly",
        "cutt.ly",
        "shorturl.at",
        "tiny.cc",
        "rb.gy",
        "bl.ink",
        "s.id",
        "t.ly",
        "v.gd",
        "lnkd.in",
        "soo.gd",
        "clck.ru",
        "qr.ae",
        "x.co",
        "adf.ly",
        "shorte.st",
        "bc.vc",
        "tr.im",
        "snipurl.com",
        "u.to",
        "urlz.fr",
        "short.io",
        "trib.al",
    }
)
EXECUTABLE = frozenset(
    {
        "exe",
        "scr",
        "com",
        "bat",
        "cmd",
        "pif",
        "vbs",
        "vbe",
        "js",
        "jse",
        "wsf",
        "wsh",
        "hta",
        "msi",
        "jar",
        "ps1",
        "lnk",
        "dll",
        "cpl",
        "reg",
        "iso",
        "img",
        "vhd",
        "vhdx",
        "appx",
        "msix",
        "chm",
        "application",
        "gadget",
        "sct",
        "xll",
    }
)
MACRO = frozenset(
    {
        "docm",
        "dotm",
        "xlsm",
        "xltm",
        "xlam",
        "pptm",
        "potm",
        "ppsm",
        "sldm",
        "doc",
        "xls",
        "ppt",
        "dot",
        "xlt",
        "rtf",
        "one",
    }
)
ARCHIVE = frozenset({"zip", "rar", "7z", "gz", "tgz", "ace", "arj", "cab", "lzh", "xz", "bz2"})
HTML_ATTACHMENT = frozenset({"htm", "html", "shtml", "xhtml", "svg", "mht", "mhtml"})
DOCUMENT = frozenset({"pdf", "doc", "docx", "txt", "jpg", "jpeg", "png", "gif", "xls", "xlsx"})


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    body = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{body})(?![a-z])")


URGENCY_RE = _pattern(URGENCY)
CREDENTIAL_RE = _pattern(CREDENTIAL)
