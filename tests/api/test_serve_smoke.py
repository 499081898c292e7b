"""``garrison serve`` for real: uvicorn in a subprocess on a free loopback port, /healthz
without credentials, an authenticated route with a token, JSON access lines on stderr."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.api.conftest import make_api

SRC = Path(__file__).resolve().parents[2] / "src"
RUNNER = "from garrison.interfaces.cli.app import main; main()"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=10) as res:  # noqa: S310 - loopback http
            return res.status, res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.slow
def test_serve_answers_health_and_an_authenticated_route(tmp_path: Path) -> None:
    api = make_api(tmp_path / "home")
    token = api.tokens["viewer"]
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SRC),
        "GARRISON_HOME": str(api.home),
        "GARRISON_SERVE_PORT": "1",  # the --port option wins over the environment
        "HOME": str(tmp_path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(base + "/healthz")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert _get(base + "/api/incidents")[0] == 401
        status, body = _get(base + "/api/incidents", {"Authorization": f"Bearer {token}"})
        assert status == 200 and json.loads(body) == []
        status, body = _get(base + "/openapi.json", {"Authorization": f"Bearer {token}"})
        assert status == 200 and "x-permission" in body.decode()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    routes = [(r.get("route"), r.get("status"), r.get("principal")) for r in lines]
    assert ("/healthz", 200, None) in routes
    assert ("/api/incidents", 200, "u-viewer") in routes
    assert token not in err.decode() and "Traceback" not in err.decode()


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, "serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_bad_serve_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "garrison.toml").write_text("[serve]\nprot = 1\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), "GARRISON_HOME": str(home)}
    res = _serve(env)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "[serve] prot" in res.stderr and "did you mean 'port'" in res.stderr
    env_bad = {**env, "GARRISON_SERVE_PORT": "http"}
    (home / "garrison.toml").unlink()
    res = _serve(env_bad)
    assert res.returncode == 2 and "[serve] port" in res.stderr and "environment" in res.stderr


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.slow
def test_two_workers_share_the_home_and_add_up_their_metrics(tmp_path: Path) -> None:
    """``[serve] workers = 2``: two worker processes answer on one port; /metrics, asked of
    either, counts the requests both served."""
    api = make_api(tmp_path / "home")
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SRC),
        "GARRISON_HOME": str(api.home),
        "GARRISON_SERVE_WORKERS": "2",
        "HOME": str(tmp_path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    viewer = {"Authorization": f"Bearer {api.tokens['viewer']}"}
    try:
        deadline = time.monotonic() + 90
        while len(_children(proc.pid)) < 2 or not _up(base):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.2)
        for _ in range(30):  # a new connection each: the kernel spreads them over workers
            assert _get(base + "/api/incidents", viewer)[0] == 200
        status, body = _get(base + "/metrics", {"Authorization": f"Bearer {api.tokens['admin']}"})
        assert status == 200
        counted = [
            line for line in body.decode().splitlines()
            if line.startswith("garrison_api_requests_total{")
            and 'route="/api/incidents"' in line and 'status="200"' in line
        ]  # fmt: skip
        assert len(counted) == 1 and float(counted[0].rsplit(" ", 1)[1]) == 30.0
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err.decode()


def _up(base: str) -> bool:
    try:
        return _get(base + "/healthz")[0] == 200
    except OSError:
        return False
