"""A local advisory snapshot for pip-audit, made from PyPI's own data, and a loopback OSV-style
service that answers pip-audit from it.

Why: pip-audit's default service asks PyPI's per-release JSON API (``/pypi/NAME/VERSION/json``)
and its ``osv`` service asks osv.dev. Where neither answers (this project's CI reaches only a
PyPI mirror whose per-release endpoint is absent), pip-audit reports every package as "not
found", prints "No known vulnerabilities found" and exits 0: an audit that audited nothing.

PyPI's project JSON (``/pypi/NAME/json``) carries ``vulnerabilities``: the advisories that
affect the project's *latest* release, with the versions that fix them. So the snapshot speaks
exactly for the installed distributions that are at their latest release when it was made,
and for no other (an advisory fixed before the latest release is not listed there at all).
The audit test runs pip-audit on those, and names the rest as not covered.

Refresh (needs PyPI): ``python -m tests.security.advisories`` rewrites advisories.json.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("advisories.json")
PYPI = "https://pypi.org/pypi"
# distributions of this project itself: not on PyPI under this name's release history
OWN = frozenset({"garrison"})


def canonical(name: str) -> str:
    """PEP 503 normalised name, as pip-audit and OSV use."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, str]:
    """Canonical name -> version of every distribution in this environment but our own."""
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonical(name) not in OWN:
            out[canonical(name)] = dist.version
    return dict(sorted(out.items()))


def _project(name: str, timeout: float) -> dict[str, Any]:
    with urllib.request.urlopen(f"{PYPI}/{name}/json", timeout=timeout) as resp:  # noqa: S310 - a fixed https URL
        return json.loads(resp.read())  # type: ignore[no-any-return]


def build(dists: dict[str, str], timeout: float = 15.0) -> dict[str, Any]:
    """The snapshot: per project, its latest release and the advisories PyPI lists for it."""
    projects: dict[str, Any] = {}
    for name in dists:
        try:
            data = _project(name, timeout)
        except OSError as exc:  # not on PyPI (404) or unreachable: left out, so not covered
            projects[name] = {"error": str(exc)[:200]}
            continue
        projects[name] = {
            "latest": data["info"]["version"],
            "vulnerabilities": [
                {k: v.get(k) for k in ("id", "aliases", "summary", "details", "fixed_in")}
                for v in data.get("vulnerabilities") or []
                if not v.get("withdrawn")
            ],
        }
    return {
        "source": f"{PYPI}/NAME/json 'vulnerabilities' (advisories affecting the latest release)",
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "projects": projects,
    }


def load(path: Path = SNAPSHOT) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def covered(snapshot: dict[str, Any], dists: dict[str, str]) -> dict[str, str]:
    """The installed distributions the snapshot speaks for: at the release it recorded."""
    projects = snapshot["projects"]
    return {n: v for n, v in dists.items() if n in projects and projects[n].get("latest") == v}


def osv_record(name: str, adv: dict[str, Any]) -> dict[str, Any]:
    """One PyPI advisory as the OSV record pip-audit's osv service reads."""
    events: list[dict[str, str]] = [{"introduced": "0"}]
    events += [{"fixed": f} for f in adv.get("fixed_in") or []]
    return {
        "schema_version": "1.4.0",
        "id": adv["id"],
        "aliases": adv.get("aliases") or [],
        "summary": adv.get("summary") or adv.get("details") or "N/A",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }


def answer(snapshot: dict[str, Any], query: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for one OSV ``/v1/query``: the advisories for a covered release;
    404 for anything the snapshot cannot speak for, so pip-audit fails rather than pass it."""
    name = canonical(str(query.get("package", {}).get("name", "")))
    project = snapshot["projects"].get(name)
    if not project or project.get("latest") != query.get("version"):
        return 404, {"error": f"{name} {query.get('version')} is not in the snapshot"}
    vulns = [osv_record(name, a) for a in project["vulnerabilities"]]
    return 200, ({"vulns": vulns} if vulns else {})


@contextmanager
def serve(snapshot: dict[str, Any]) -> Iterator[str]:
    """A loopback OSV query endpoint over ``snapshot``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = min(int(self.headers.get("Content-Length") or 0), 1 << 16)
            try:
                status, body = answer(snapshot, json.loads(self.rfile.read(size)))
            except (ValueError, AttributeError) as exc:
                status, body = 400, {"error": str(exc)}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    snap = build(installed())
    SNAPSHOT.write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    have = installed()
    print(f"{SNAPSHOT}: {len(covered(snap, have))} of {len(have)} installed distributions covered")
