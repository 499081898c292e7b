"""The demo organisation's asset inventory, in the CSV format ``hunt --assets`` reads.

A real SOC has a CMDB; the demo writes the equivalent so triage can weigh findings by asset
criticality and resolve IP addresses to hosts: domain controllers are critical, file,
database and application servers high, internet-facing hosts exposed.
"""

from __future__ import annotations

from pathlib import Path

from garrison.demo.world import World

#: Criticality by host role; anything not listed is "medium".
ROLE_CRITICALITY = {"dc": "critical", "fs": "high", "sql": "high", "db": "high", "app": "high"}
EXPOSED_ROLES = ("web", "bastion")
HEADER = "host,ip,criticality,exposure,user,department,privileged"


def inventory_lines(world: World) -> list[str]:
    lines = [HEADER]
    for host in world.hosts:
        exposure = "internet" if host.role in EXPOSED_ROLES else "internal"
        criticality = ROLE_CRITICALITY.get(host.role, "medium")
        lines.append(f"{host.name},{host.ip},{criticality},{exposure},,,")
    for user in world.users:
        lines.append(f",,,,{user.sam},{user.department},no")
        if user.admin_account:
            lines.append(f",,,,{user.admin_account},{user.department},yes")
    return lines


def write_inventory(world: World, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(inventory_lines(world)) + "\n", encoding="utf-8")
    return path
