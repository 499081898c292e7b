"""The API's shape: the app factory imports no model code (services are built lazily, per
request), route modules stay small, and no route module reaches the database (the SQL
check of tests/unit/interfaces/test_cli_shape.py covers interfaces/api too: asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.unit.interfaces.test_cli_shape import INTERFACES, _sql_in

ROOT = Path(__file__).resolve().parents[2]
API = INTERFACES / "api"
HEAVY = (
    "sklearn",
    "torch",
    "usearch",
    "skops",
    "river",
    "shap",
    "garrison.detect",
    "garrison.measure.training",
    "garrison.correlate.workbench",
    "garrison.respond.service",
)


def test_the_app_factory_imports_no_model_code(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from garrison.core.config import load_config\n"
        "from garrison.interfaces.api.app import create_app\n"
        f"app = create_app(load_config({str(tmp_path)!r}))\n"
        "app.openapi()\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"), "HOME": str(tmp_path)},
    )
    assert res.returncode == 0, res.stderr
    loaded = set(res.stdout.split())
    assert "garrison.interfaces.api.routes.findings" in loaded
    assert sorted(m for m in loaded if m.startswith(HEAVY)) == []


def test_route_modules_are_small_and_hold_no_sql() -> None:
    modules = sorted(API.rglob("*.py"))
    assert len(modules) >= 15
    assert [p.name for p in modules if len(p.read_text().splitlines()) > 250] == []
    assert [hit for p in modules for hit in _sql_in(p)] == []
