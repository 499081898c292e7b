"""A home with one user per role (and an admin who issues their tokens), and an API over
it, for the API tests. Tokens are real ``gar_`` tokens from ``UserStore``; the app is the
real one from ``create_app``, called in-process through Starlette's TestClient."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from garrison.core.config import GarrisonConfig, load_config
from garrison.core.serveconfig import ServeConfig
from garrison.govern.access import ROLES, Passwords, Principal, UserStore
from garrison.store.state import StateDB

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx is what is pinned
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"  # noqa: S105 - the test users' password, on temp homes
#: argon2id with test-cheap parameters (the hash carries them, so verify works the same).
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@dataclass
class Api:
    home: Path
    config: GarrisonConfig
    state: StateDB
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    clock: list[int] = field(default_factory=lambda: [0])

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def admin(self) -> UserStore:
        return UserStore(self.state, actor=Principal("root", frozenset({"admin"}), "cli"))


def user_for(role: str) -> str:
    return "u-" + role


def make_api(home: Path, serve: ServeConfig | None = None, users: bool = True) -> Api:
    from garrison.core.timeutil import now_ms
    from garrison.interfaces.api.app import create_app

    home.mkdir(parents=True, exist_ok=True)
    state = StateDB(home / "state.db")
    config = load_config(home)
    api_clock = [now_ms()]
    clock: Callable[[], int] = lambda: api_clock[0]  # noqa: E731
    app = create_app(config, serve or ServeConfig(), clock=clock)
    api = Api(home, config, state, TestClient(app), clock=api_clock)
    if users:
        UserStore(state, passwords=CHEAP).add_user("root", ["admin"], PASSWORD)
        admin = UserStore(
            state, actor=Principal("root", frozenset({"admin"}), "cli"), passwords=CHEAP
        )
        for role in ROLES:
            admin.add_user(user_for(role), [role], PASSWORD)
            api.tokens[role] = admin.issue_token(user_for(role), role).secret
    return api


@pytest.fixture()
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path / "home")
