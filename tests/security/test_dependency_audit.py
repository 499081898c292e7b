"""Dependency audit: pip-audit over the installed environment, bounded in time.

Order: PyPI's advisory service live; where it audits nothing (offline, or a mirror without
the per-release JSON API) the committed snapshot of PyPI's advisories (advisories.py says
what it can and cannot speak for); with neither, a skip whose reason starts "offline:".
Reviewed exceptions live in audit_exceptions.toml; docs/security-checks.md explains both.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.security import advisories

HERE = Path(__file__).parent
EXCEPTIONS = HERE / "audit_exceptions.toml"
RUN_TIMEOUT = 240  # seconds for one whole pip-audit run: it can never hang the suite
NET_TIMEOUT = "10"  # seconds per request inside pip-audit

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pip_audit") is None, reason="pip-audit is not installed"
)


def exceptions() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tomllib.loads(EXCEPTIONS.read_text(encoding="utf-8"))["ignore"]
    for item in items:
        missing = {"id", "package", "reason", "proof"} - {k for k, v in item.items() if v}
        assert not missing, f"audit exception {item.get('id')!r} lacks {sorted(missing)}"
    return items


def _ignore_args() -> list[str]:
    ids = {i for item in exceptions() for i in [item["id"], *item.get("aliases", [])]}
    return [arg for i in sorted(ids) for arg in ("--ignore-vuln", i)]


def pip_audit(args: list[str], cache: Path) -> dict[str, Any] | str:
    """pip-audit's JSON report, or why there is none (a one-line reason)."""
    cmd = [sys.executable, "-m", "pip_audit", *args, "-f", "json", "--progress-spinner", "off"]
    cmd += ["--timeout", NET_TIMEOUT, "--cache-dir", str(cache), *_ignore_args()]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"pip-audit took more than {RUN_TIMEOUT} s"
    try:
        report: dict[str, Any] = json.loads(res.stdout)
    except ValueError:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return f"pip-audit exited {res.returncode}: {tail[:300]}"
    return report


def audited(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The dependencies pip-audit could actually look up (not skipped)."""
    return [d for d in report.get("dependencies", []) if not d.get("skip_reason")]


def vulnerable(report: dict[str, Any]) -> list[str]:
    """One line per known vulnerability pip-audit reports (ignored ones are already out)."""
    return [
        f"{d['name']} {d.get('version')}: {v['id']} ({', '.join(v.get('aliases') or [])}) "
        f"fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'}"
        for d in report.get("dependencies", [])
        for v in d.get("vulns") or []
    ]


def why_unavailable(report: dict[str, Any] | str) -> str | None:
    """None when the report audited something; else why it is no audit at all. pip-audit
    prints "No known vulnerabilities found" and exits 0 even when it skipped every package."""
    if isinstance(report, str):
        return report
    deps = report.get("dependencies", [])
    if audited(report):
        return None
    first = next((d["skip_reason"] for d in deps if d.get("skip_reason")), "nothing listed")
    return f"PyPI's advisory service answered for none of {len(deps)} packages ({first})"


def _fail_on(report: dict[str, Any], where: str) -> None:
    found = vulnerable(report)
    assert not found, (
        f"known vulnerabilities ({where}); upgrade, or add a reviewed exception to "
        f"{EXCEPTIONS.name}:\n" + "\n".join(found)
    )


def audit_from_snapshot(
    snapshot: dict[str, Any], folder: Path
) -> tuple[dict[str, Any] | str, list[str]]:
    """pip-audit over the installed distributions the snapshot covers, answered by a loopback
    OSV endpoint; and the installed distributions it does not cover."""
    have = advisories.installed()
    covered = advisories.covered(snapshot, have)
    uncovered = sorted(f"{n} {v}" for n, v in have.items() if n not in covered)
    if not covered:
        return "the advisory snapshot covers none of the installed versions", uncovered
    req = folder / "covered.txt"
    req.write_text("".join(f"{n}=={v}\n" for n, v in covered.items()), encoding="utf-8")
    with advisories.serve(snapshot) as url:
        args = ["-r", str(req), "--no-deps", "--disable-pip", "-s", "osv", "--osv-url", url]
        return pip_audit(args, folder / "cache"), uncovered


@pytest.mark.slow
def test_installed_dependencies_have_no_known_vulnerability(tmp_path: Path) -> None:
    live = pip_audit(["-l", "--skip-editable"], tmp_path / "live-cache")
    offline = why_unavailable(live)
    if offline is None:
        assert isinstance(live, dict)
        _fail_on(live, "PyPI advisory service, live")
        return
    snapshot = advisories.load()
    if snapshot is None:
        pytest.skip(f"offline: {offline}; and no advisory snapshot at {advisories.SNAPSHOT.name}")
    report, uncovered = audit_from_snapshot(snapshot, tmp_path)
    unusable = why_unavailable(report)
    if unusable is not None:
        pytest.skip(f"offline: {offline}; snapshot: {unusable}")
    assert isinstance(report, dict)
    _fail_on(report, f"advisory snapshot of {snapshot['made_at']}")
    if uncovered:
        warnings.warn(
            f"offline: audited {len(audited(report))} packages against the advisory snapshot "
            f"of {snapshot['made_at']}; not covered (not at the release it recorded): "
            + ", ".join(uncovered),
            stacklevel=1,
        )


# -- the pieces, each shown able to fail -----------------------------------------------------
def _report(*deps: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(deps), "fixes": []}


def test_an_audit_that_skipped_every_package_is_no_audit() -> None:
    skipped = {"name": "a", "skip_reason": "Dependency not found on PyPI and could not be audited"}
    assert "none of 1 packages" in str(why_unavailable(_report(skipped)))
    assert why_unavailable(_report(skipped, {"name": "b", "version": "1", "vulns": []})) is None
    assert why_unavailable("pip-audit took more than 240 s") is not None


def test_a_reported_vulnerability_fails_the_audit() -> None:
    vuln = {"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["2.0"], "description": ""}
    report = _report({"name": "a", "version": "1.0", "vulns": [vuln]})
    assert vulnerable(report) == ["a 1.0: PYSEC-1 (CVE-1) fixed in 2.0"]
    with pytest.raises(AssertionError, match="PYSEC-1"):
        _fail_on(report, "test")


def test_the_snapshot_endpoint_answers_only_for_the_release_it_recorded() -> None:
    adv = {"id": "GHSA-x", "aliases": ["CVE-x"], "summary": "bad", "details": None}
    snap = {
        "projects": {
            "demo-pkg": {"latest": "1.2", "vulnerabilities": [dict(adv, fixed_in=["1.3"])]}
        }
    }
    status, body = advisories.answer(snap, {"package": {"name": "Demo_Pkg"}, "version": "1.2"})
    assert status == 200 and body["vulns"][0]["id"] == "GHSA-x"
    assert body["vulns"][0]["affected"][0]["ranges"][0]["events"][-1] == {"fixed": "1.3"}
    assert advisories.answer(snap, {"package": {"name": "demo-pkg"}, "version": "1.1"})[0] == 404
    assert advisories.answer(snap, {"package": {"name": "other"}, "version": "1"})[0] == 404


@pytest.mark.slow
def test_pip_audit_through_the_snapshot_reports_a_planted_advisory(tmp_path: Path) -> None:
    version = advisories.installed()["pytest"]
    planted = {
        "id": "PYSEC-0000-TEST",
        "aliases": ["CVE-0000-0001"],
        "summary": "planted",
        "details": None,
        "fixed_in": ["999.0"],
    }
    snap = {
        "made_at": "test",
        "projects": {"pytest": {"latest": version, "vulnerabilities": [planted]}},
    }
    report, uncovered = audit_from_snapshot(snap, tmp_path)
    assert isinstance(report, dict), report
    assert [d["name"] for d in audited(report)] == ["pytest"]
    assert vulnerable(report) == [
        f"pytest {version}: PYSEC-0000-TEST (CVE-0000-0001) fixed in 999.0"
    ]
    assert uncovered  # everything else installed is named as not covered


def test_every_audit_exception_is_explained() -> None:
    assert all(len(item["reason"].split()) >= 10 for item in exceptions())


def test_garrison_never_loads_diskcache() -> None:
    """The proof behind the diskcache exception: importing every Garrison module (and so
    everything of pySigma it uses) never imports diskcache or pySigma's downloaders."""
    code = (
        "import importlib, pkgutil, sys, garrison\n"
        "for m in pkgutil.walk_packages(garrison.__path__, 'garrison.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        try:\n"
        "            importlib.import_module(m.name)\n"
        "        except ImportError:\n"
        "            pass\n"
        "print(sorted(n for n in sys.modules if n == 'diskcache' or n.startswith('sigma.data')))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == "[]"
