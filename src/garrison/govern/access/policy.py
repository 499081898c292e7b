"""Roles, the permission table, principals and the one check every route and service makes.

The table is data (``permissions.yaml`` beside this module), loaded once and checked before
anything is allowed by it: a typo in a role name would otherwise silently grant nothing (or,
worse, a reviewer would read a grant that is not there). ``allowed`` answers, ``require``
raises; both refuse an unknown permission name with ``KeyError``, because asking for a
permission that does not exist is a programming error that must fail loudly, never allow.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from dataclasses import dataclass
from typing import Any

import yaml

from garrison.core import safeyaml
from garrison.core.errors import AccessDenied

#: Every role, in the order documents list them.
ROLES: tuple[str, ...] = ("viewer", "analyst", "responder", "admin", "model-owner")
#: How a principal proved who it is.
VIA: tuple[str, ...] = ("cli", "token", "session")

_PERMISSION_NAME = re.compile(r"^[a-z]+(\.[a-z]+)+$")
TABLE_FILE = "permissions.yaml"


@dataclass(frozen=True, slots=True)
class Permission:
    name: str
    roles: frozenset[str]
    why: str


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated identity: the registered user ``name`` holding ``roles`` (for a
    token, only the role it is scoped to), proved ``via`` the CLI's OS account, a token or a
    session password. Built only by the access package after authentication."""

    name: str
    roles: frozenset[str]
    via: str

    def __post_init__(self) -> None:
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")
        if self.via not in VIA:
            raise ValueError(f"unknown authentication {self.via!r}; one of {', '.join(VIA)}")


class PolicyError(ValueError):
    """The shipped permission table is malformed (a packaging or editing mistake)."""


def _duplicate_keys(text: str) -> list[str]:
    """Keys given twice in the ``permissions`` mapping: YAML keeps the last silently."""
    root = safeyaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "permissions" and isinstance(value, yaml.MappingNode):
            names = [k.value for k, _ in value.value]
            return sorted({n for n in names if names.count(n) > 1})
    return []


def parse_table(text: str) -> dict[str, Permission]:
    """The permission table of ``text``, checked; ``PolicyError`` names the first problem."""
    doc: Any = safeyaml.load(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("permissions"), dict):
        raise PolicyError("the permission table needs a 'permissions' mapping")
    if tuple(doc.get("roles") or ()) != ROLES:
        raise PolicyError(f"the table's roles must be exactly {list(ROLES)}")
    dupes = _duplicate_keys(text)
    if dupes:
        raise PolicyError(f"permission(s) given twice: {', '.join(dupes)}")
    table: dict[str, Permission] = {}
    for name, spec in doc["permissions"].items():
        if not isinstance(name, str) or not _PERMISSION_NAME.match(name):
            raise PolicyError(f"bad permission name {name!r} (want area.verb)")
        roles = spec.get("roles") if isinstance(spec, dict) else None
        if not isinstance(roles, list) or not roles:
            raise PolicyError(f"{name}: needs a non-empty 'roles' list")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise PolicyError(f"{name}: unknown role(s) {unknown}; roles are {list(ROLES)}")
        table[name] = Permission(name, frozenset(roles), str(spec.get("why", "")))
    idle = [r for r in ROLES if not any(r in p.roles for p in table.values())]
    if idle:
        raise PolicyError(f"role(s) granted nothing: {idle}")
    return table


@functools.cache
def permissions() -> dict[str, Permission]:
    """The shipped table (loaded and checked once per process)."""
    text = importlib.resources.files(__package__).joinpath(TABLE_FILE).read_text("utf-8")
    return parse_table(text)


def permission(name: str) -> Permission:
    """The permission ``name``; ``KeyError`` for a name the table does not have."""
    table = permissions()
    if name not in table:
        raise KeyError(f"unknown permission {name!r}: not in {TABLE_FILE}")
    return table[name]


def roles_for(name: str) -> tuple[str, ...]:
    """The roles that grant permission ``name``, in ``ROLES`` order."""
    granted = permission(name).roles
    return tuple(r for r in ROLES if r in granted)


def allowed(principal: Principal, name: str) -> bool:
    """Whether ``principal`` holds a role granting ``name`` (``KeyError`` if unknown)."""
    return bool(principal.roles & permission(name).roles)


def require(principal: Principal, name: str) -> None:
    """Return if ``principal`` may do ``name``; else ``AccessDenied`` saying who, what and
    which roles would grant it (the table is public, so this tells an attacker nothing)."""
    if allowed(principal, name):
        return
    held = ", ".join(r for r in ROLES if r in principal.roles) or "no role"
    raise AccessDenied(
        f"{principal.name} ({principal.via}) may not {name}: it needs role "
        f"{' or '.join(roles_for(name))}; {principal.name} holds {held}"
    )
