"""``@requires``: the permission check on a service method, declared where the method is.

    class Approvals:
        @audited("approval.decide", actor=...)   # outermost: a refusal is audited too
        @requires("approvals.decide")
        def approve(self, approval_id, ...): ...

The principal comes from the first argument's ``principal`` attribute (a service opened for
an identity), or from ``principal(*args, **kwargs)``. The permission name is looked up when
the decorator is applied, so a misspelt name fails at import, not at the first call; the
name is kept on the function as ``required_permission`` so an authorization matrix test can
list what every method needs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from garrison.core.errors import AccessDenied
from garrison.govern.access.policy import Principal, permission, require

P = ParamSpec("P")
R = TypeVar("R")


def _self_principal(*args: Any, **_kwargs: Any) -> Principal | None:
    who = getattr(args[0], "principal", None) if args else None
    return who if isinstance(who, Principal) else None


def requires(
    name: str, principal: Callable[..., Principal | None] = _self_principal
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Refuse the call with ``AccessDenied`` unless the principal may do ``name``."""
    permission(name)  # KeyError now for a name the table does not have

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            who = principal(*args, **kwargs)
            if who is None:
                raise AccessDenied(f"no authenticated identity may {name}")
            require(who, name)
            return fn(*args, **kwargs)

        inner.required_permission = name  # type: ignore[attr-defined]
        return inner

    return wrap


def in_process(name: str) -> None:
    """The ``authorize`` of a service built directly by trusted in-process code (tests, a
    pipeline that holds the state file anyway): the permission must exist, so a typo still
    fails loudly; nothing else is checked. Interfaces never use it: they open services for
    the principal they authenticated."""
    permission(name)


def authorizer(principal: Principal) -> Callable[[str], None]:
    """The ``authorize`` callable of a service opened for ``principal``."""

    def authorize(name: str) -> None:
        require(principal, name)

    return authorize
