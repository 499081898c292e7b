"""Value semantics of every Sigma modifier and value type, through the real engine."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from garrison.detect.sigma import detector_from_yaml

SYSMON = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}


def rule_text(detection: str, logsource: str = "product: windows") -> str:
    return (
        "title: Test rule\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\n"
        f"level: high\nlogsource:\n    {logsource}\ndetection:\n"
        + textwrap.indent(textwrap.dedent(detection).strip("\n"), "    ")
        + "\n"
    )


def matches(detection: str, fields: dict[str, Any], native: bool = True, **options: Any) -> bool:
    det = detector_from_yaml(rule_text(detection), options={"native": native, **options})
    assert not det.ruleset.errors, det.ruleset.errors
    found, _ = det.engine.match({**SYSMON, **fields}, "evtx", 0)
    return bool(found)


CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # plain strings: whole value, case-insensitive
    (
        "eq",
        "sel:\n  Image: 'C:\\Windows\\cmd.exe'\ncondition: sel",
        {"Image": "c:\\windows\\CMD.EXE"},
        True,
    ),
    (
        "eq-partial",
        "sel:\n  Image: 'cmd.exe'\ncondition: sel",
        {"Image": "c:\\windows\\cmd.exe"},
        False,
    ),
    (
        "wildcard-star",
        "sel:\n  Image: '*\\cmd.exe'\ncondition: sel",
        {"Image": "C:\\Windows\\System32\\cmd.exe"},
        True,
    ),
    (
        "wildcard-qmark",
        "sel:\n  Image: 'c:\\windows\\cm?.exe'\ncondition: sel",
        {"Image": "C:\\Windows\\cmX.exe"},
        True,
    ),
    (
        "wildcard-qmark-one-char",
        "sel:\n  Image: 'c:\\windows\\cm?.exe'\ncondition: sel",
        {"Image": "C:\\Windows\\cmXY.exe"},
        False,
    ),
    (
        "inner-wildcard",
        "sel:\n  CommandLine: '*\\AppData\\\\*\\evil.exe*'\ncondition: sel",
        {"CommandLine": "C:\\Users\\a\\AppData\\Local\\Temp\\EVIL.exe -x"},
        True,
    ),
    ("escaped-star", "sel:\n  CommandLine: 'a\\*b'\ncondition: sel", {"CommandLine": "a*b"}, True),
    (
        "escaped-star-literal",
        "sel:\n  CommandLine: 'a\\*b'\ncondition: sel",
        {"CommandLine": "axb"},
        False,
    ),
    (
        "escaped-qmark",
        "sel:\n  CommandLine: 'what\\?'\ncondition: sel",
        {"CommandLine": "what?"},
        True,
    ),
    (
        "backslash-kept",
        "sel:\n  TargetObject: 'HKLM\\Software\\Run'\ncondition: sel",
        {"TargetObject": "hklm\\software\\run"},
        True,
    ),
    # contains / startswith / endswith
    (
        "contains",
        "sel:\n  CommandLine|contains: 'invoke-mimikatz'\ncondition: sel",
        {"CommandLine": "powershell Invoke-Mimikatz -DumpCreds"},
        True,
    ),
    (
        "startswith",
        "sel:\n  CommandLine|startswith: 'powershell'\ncondition: sel",
        {"CommandLine": "PowerShell -nop"},
        True,
    ),
    (
        "startswith-no",
        "sel:\n  CommandLine|startswith: 'nop'\ncondition: sel",
        {"CommandLine": "PowerShell -nop"},
        False,
    ),
    (
        "endswith",
        "sel:\n  Image|endswith: '\\rundll32.exe'\ncondition: sel",
        {"Image": "C:\\Windows\\System32\\RUNDLL32.EXE"},
        True,
    ),
    (
        "list-is-or",
        "sel:\n  Image|endswith:\n    - '\\a.exe'\n    - '\\b.exe'\ncondition: sel",
        {"Image": "C:\\x\\b.exe"},
        True,
    ),
    (
        "all",
        "sel:\n  CommandLine|contains|all:\n    - ' -w '\n    - 'hidden'\ncondition: sel",
        {"CommandLine": "powershell -w hidden -enc AAA"},
        True,
    ),
    (
        "all-missing-one",
        "sel:\n  CommandLine|contains|all:\n    - ' -w '\n    - 'hidden'\ncondition: sel",
        {"CommandLine": "powershell -w normal"},
        False,
    ),
    (
        "many-contains",
        "sel:\n  CommandLine|contains:\n"
        + "".join(f"    - 'needle{i:02d}'\n" for i in range(40))
        + "condition: sel",
        {"CommandLine": "x NEEDLE37 y"},
        True,
    ),
    (
        "many-contains-none",
        "sel:\n  CommandLine|contains:\n"
        + "".join(f"    - 'needle{i:02d}'\n" for i in range(40))
        + "condition: sel",
        {"CommandLine": "x needle99 y"},
        False,
    ),
    # regular expressions: case-sensitive unless i
    (
        "re",
        "sel:\n  CommandLine|re: '-[Ee]nc(odedcommand)? [A-Za-z0-9+/=]{8,}'\ncondition: sel",
        {"CommandLine": "powershell -enc SQBFAFgAIAAoAE4A"},
        True,
    ),
    (
        "re-case-sensitive",
        "sel:\n  CommandLine|re: 'Invoke'\ncondition: sel",
        {"CommandLine": "invoke-expression"},
        False,
    ),
    (
        "re-i",
        "sel:\n  CommandLine|re|i: 'INVOKE'\ncondition: sel",
        {"CommandLine": "invoke-expression"},
        True,
    ),
    (
        "re-unanchored",
        "sel:\n  CommandLine|re: 'b.d'\ncondition: sel",
        {"CommandLine": "abcde"},
        True,
    ),
    (
        "re-m",
        "sel:\n  ScriptBlockText|re|m: '^second$'\ncondition: sel",
        {"ScriptBlockText": "first\nsecond\nthird"},
        True,
    ),
    (
        "re-no-m",
        "sel:\n  ScriptBlockText|re: '^second$'\ncondition: sel",
        {"ScriptBlockText": "first\nsecond\nthird"},
        False,
    ),
    (
        "re-s",
        "sel:\n  ScriptBlockText|re|s: 'first.second'\ncondition: sel",
        {"ScriptBlockText": "first\nsecond"},
        True,
    ),
    (
        "re-no-s",
        "sel:\n  ScriptBlockText|re: 'first.second'\ncondition: sel",
        {"ScriptBlockText": "first\nsecond"},
        False,
    ),
    # encodings
    ("base64", "sel:\n  CommandLine|base64: 'abc'\ncondition: sel", {"CommandLine": "YWJj"}, True),
    (
        "base64-contains",
        "sel:\n  CommandLine|base64|contains: 'http://'\ncondition: sel",
        {"CommandLine": "powershell -e aHR0cDovLw=="},
        True,
    ),
    (
        "base64offset-0",
        "sel:\n  CommandLine|base64offset|contains: 'IEX ('\ncondition: sel",
        {"CommandLine": "x SUVYICgiaGVsbG8i y"},
        True,
    ),
    (
        "base64offset-1",
        "sel:\n  CommandLine|base64offset|contains: 'IEX ('\ncondition: sel",
        {"CommandLine": "x ZElFWCAoImhlbGxvIg== y"},
        True,
    ),
    (
        "base64offset-2",
        "sel:\n  CommandLine|base64offset|contains: 'IEX ('\ncondition: sel",
        {"CommandLine": "x YWJJRVggKCJoZWxsbyI= y"},
        True,
    ),
    (
        "wide-base64offset",
        "sel:\n  CommandLine|wide|base64offset|contains: 'IEX'\ncondition: sel",
        {"CommandLine": "powershell -enc SQBFAFgAIAAoAE4AZQB3AC0A"},
        True,
    ),
    (
        "utf16be",
        "sel:\n  Payload|utf16be|base64|contains: 'ab'\ncondition: sel",
        {"Payload": "xx AGEAYg== yy"},
        True,
    ),
    # pySigma writes the BOM of |utf16 as UTF-8 bytes (EF BB BF): we follow the reference
    (
        "utf16",
        "sel:\n  Payload|utf16|base64|contains: 'ab'\ncondition: sel",
        {"Payload": "xx 77u/YQBiAA== yy"},
        True,
    ),
    (
        "windash-slash",
        "sel:\n  CommandLine|windash|contains: ' -decode '\ncondition: sel",
        {"CommandLine": "certutil /decode a b"},
        True,
    ),
    (
        "windash-endash",
        "sel:\n  CommandLine|windash|contains: ' -decode '\ncondition: sel",
        {"CommandLine": "certutil \u2013decode a b"},
        True,
    ),
    (
        "windash-dash",
        "sel:\n  CommandLine|windash|contains: ' -decode '\ncondition: sel",
        {"CommandLine": "certutil -decode a b"},
        True,
    ),
    # network, existence, comparison, references
    (
        "cidr-v4",
        "sel:\n  DestinationIp|cidr: '10.0.0.0/8'\ncondition: sel",
        {"DestinationIp": "10.20.30.40"},
        True,
    ),
    (
        "cidr-v4-out",
        "sel:\n  DestinationIp|cidr: '10.0.0.0/8'\ncondition: sel",
        {"DestinationIp": "11.0.0.1"},
        False,
    ),
    (
        "cidr-v6",
        "sel:\n  DestinationIp|cidr: 'fe80::/10'\ncondition: sel",
        {"DestinationIp": "fe80::1"},
        True,
    ),
    (
        "cidr-not-ip",
        "sel:\n  DestinationIp|cidr: '10.0.0.0/8'\ncondition: sel",
        {"DestinationIp": "10.0.0.x"},
        False,
    ),
    ("exists", "sel:\n  ParentImage|exists: true\ncondition: sel", {"ParentImage": "x"}, True),
    ("exists-absent", "sel:\n  ParentImage|exists: true\ncondition: sel", {}, False),
    ("exists-false", "sel:\n  ParentImage|exists: false\ncondition: sel", {}, True),
    ("gt", "sel:\n  Count|gt: 10\ncondition: sel", {"Count": 11}, True),
    ("gt-string", "sel:\n  Count|gt: 10\ncondition: sel", {"Count": "11"}, True),
    ("gt-equal", "sel:\n  Count|gt: 10\ncondition: sel", {"Count": 10}, False),
    ("gte", "sel:\n  Count|gte: 10\ncondition: sel", {"Count": 10}, True),
    ("lt", "sel:\n  Count|lt: 10\ncondition: sel", {"Count": 9.5}, True),
    ("lte", "sel:\n  Count|lte: 10\ncondition: sel", {"Count": 11}, False),
    ("gt-not-number", "sel:\n  Count|gt: 10\ncondition: sel", {"Count": "many"}, False),
    (
        "fieldref",
        "sel:\n  TargetUserName|fieldref: SubjectUserName\ncondition: sel",
        {"TargetUserName": "Bob", "SubjectUserName": "bob"},
        True,
    ),
    (
        "fieldref-differs",
        "sel:\n  TargetUserName|fieldref: SubjectUserName\ncondition: sel",
        {"TargetUserName": "bob", "SubjectUserName": "alice"},
        False,
    ),
    (
        "fieldref-missing",
        "sel:\n  TargetUserName|fieldref: SubjectUserName\ncondition: sel",
        {"TargetUserName": "bob"},
        False,
    ),
    (
        "fieldref-endswith",
        "sel:\n  Image|fieldref|endswith: OriginalFileName\ncondition: sel",
        {"Image": "C:\\tmp\\evil.exe", "OriginalFileName": "EVIL.exe"},
        True,
    ),
    (
        "fieldref-contains",
        "sel:\n  CommandLine|fieldref|contains: Image\ncondition: sel",
        {"CommandLine": '"c:\\a.exe" -x', "Image": "C:\\A.exe"},
        True,
    ),
    # null and empty
    ("null-absent", "sel:\n  CommandLine: null\ncondition: sel", {}, True),
    ("null-none", "sel:\n  CommandLine: null\ncondition: sel", {"CommandLine": None}, True),
    ("null-empty", "sel:\n  CommandLine: null\ncondition: sel", {"CommandLine": ""}, True),
    ("null-value", "sel:\n  CommandLine: null\ncondition: sel", {"CommandLine": "x"}, False),
    ("empty", "sel:\n  CommandLine: ''\ncondition: sel", {"CommandLine": ""}, True),
    ("empty-value", "sel:\n  CommandLine: ''\ncondition: sel", {"CommandLine": "x"}, False),
    ("empty-absent", "sel:\n  CommandLine: ''\ncondition: sel", {}, False),
    # numbers and strings
    ("number-vs-int", "sel:\n  EventID: 1\ncondition: sel", {}, True),
    ("number-vs-string", "sel:\n  Status: 4688\ncondition: sel", {"Status": "4688"}, True),
    ("string-vs-int", "sel:\n  Status: '4688'\ncondition: sel", {"Status": 4688}, True),
    ("number-mismatch", "sel:\n  Status: 4688\ncondition: sel", {"Status": 4689}, False),
    ("bool", "sel:\n  Signed: false\ncondition: sel", {"Signed": "false"}, True),
    ("bool-python", "sel:\n  Signed: true\ncondition: sel", {"Signed": True}, True),
    # case-sensitive and negated items
    (
        "cased",
        "sel:\n  CommandLine|cased: 'Invoke'\ncondition: sel",
        {"CommandLine": "invoke"},
        False,
    ),
    (
        "cased-ok",
        "sel:\n  CommandLine|cased|contains: 'Invoke'\ncondition: sel",
        {"CommandLine": "x Invoke y"},
        True,
    ),
    ("neq", "sel:\n  Image|neq: 'C:\\a.exe'\ncondition: sel", {"Image": "C:\\b.exe"}, True),
    ("neq-equal", "sel:\n  Image|neq: 'C:\\a.exe'\ncondition: sel", {"Image": "c:\\A.exe"}, False),
    # list-valued fields: any item
    (
        "list-field",
        "sel:\n  Tags|contains: 'admin'\ncondition: sel",
        {"Tags": ["users", "Domain Admins"]},
        True,
    ),
    (
        "list-field-no",
        "sel:\n  Tags|contains: 'admin'\ncondition: sel",
        {"Tags": ["users", "guests"]},
        False,
    ),
    # absent field never matches a value
    ("absent-field", "sel:\n  Image|endswith: '.exe'\ncondition: sel", {}, False),
    ("wildcard-only", "sel:\n  Image: '*'\ncondition: sel", {"Image": "x"}, True),
    ("wildcard-only-absent", "sel:\n  Image: '*'\ncondition: sel", {}, False),
    # timestamp parts
    ("hour", "sel:\n  UtcTime|hour: 3\ncondition: sel", {"UtcTime": "2024-01-02T03:04:05Z"}, True),
    (
        "hour-other",
        "sel:\n  UtcTime|hour: 4\ncondition: sel",
        {"UtcTime": "2024-01-02T03:04:05Z"},
        False,
    ),
]


@pytest.mark.parametrize("native", [True, False], ids=["aho-corasick", "pure-python"])
@pytest.mark.parametrize(
    ("detection", "fields", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_modifier(detection: str, fields: dict[str, Any], expected: bool, native: bool) -> None:
    assert matches(detection, fields, native=native) is expected


def test_expand_with_configured_placeholder() -> None:
    detection = "sel:\n  Computer|expand: '%admin_hosts%'\ncondition: sel"
    opts = {"placeholders": {"admin_hosts": ["ADM-*", "jump01"]}}
    assert matches(detection, {"Computer": "adm-07"}, **opts)
    assert matches(detection, {"Computer": "JUMP01"}, **opts)
    assert not matches(detection, {"Computer": "ws-01"}, **opts)


def test_expand_without_value_is_a_load_failure() -> None:
    det = detector_from_yaml(rule_text("sel:\n  Computer|expand: '%nowhere%'\ncondition: sel"))
    assert det.ruleset.loaded == 0
    (reason,) = det.ruleset.errors.values()
    assert "%nowhere%" in reason
