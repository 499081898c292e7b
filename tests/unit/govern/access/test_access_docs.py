"""docs/access.md shows the permission table the code enforces, row for row."""

from __future__ import annotations

import re
from pathlib import Path

from garrison.govern.access import permissions, roles_for

DOC = Path(__file__).resolve().parents[4] / "docs" / "access.md"


def test_the_documented_table_is_the_enforced_one():
    rows = re.findall(r"^\| `([a-z.]+)` \| ([a-z, -]+) \|", DOC.read_text("utf-8"), re.MULTILINE)
    documented = {name: tuple(r.strip() for r in roles.split(",")) for name, roles in rows}
    assert documented == {name: roles_for(name) for name in permissions()}
