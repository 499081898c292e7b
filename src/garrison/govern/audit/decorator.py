"""``@audited``: one audit entry per call of a privileged service method.

    class Workbench:
        @audited("allowlist.add", target=lambda self, kind, value, *a, **k: f"{kind}:{value}")
        def allow(self, kind, value, ...): ...

The log is reached through a service object, never global state: by default the first
argument's ``audit`` attribute (a method's ``self``), or whatever ``log(*args, **kwargs)``
returns. The log is made ready (its key loaded and checked) *before* the call, so an action
that could not be audited is refused instead of done silently; the entry is written after
the call with ``outcome`` ``ok`` or ``error:<ExceptionType>``. Exception messages are not
logged (they may quote secrets or attacker text); the exception is re-raised unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from garrison.govern.audit.log import AuditLog

P = ParamSpec("P")
R = TypeVar("R")

Describe = Callable[..., Any]


def _self_audit(*args: Any, **_kwargs: Any) -> AuditLog:
    log = getattr(args[0], "audit", None) if args else None
    if not isinstance(log, AuditLog):
        raise TypeError("@audited needs `log=` or an `audit` attribute on the first argument")
    return log


def _safe(fn: Describe | None, *args: Any, **kwargs: Any) -> Any:
    """A describer's value; its failure is recorded, never allowed to hide the action."""
    if fn is None:
        return None
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the action must still be audited
        return f"<unavailable: {type(exc).__name__}>"


def audited(
    action: str,
    *,
    target: Describe | None = None,
    details: Describe | None = None,
    result: Describe | None = None,
    actor: Describe | None = None,
    log: Callable[..., AuditLog] = _self_audit,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Audit every call of the decorated function.

    ``target(*args, **kwargs)`` names what was acted on, ``details(*args, **kwargs)`` adds
    a dict before the call, ``result(value, *args, **kwargs)`` a dict from the return value
    on success, ``actor(*args, **kwargs)`` overrides the OS account. All of them see the
    call's arguments exactly as given.
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            audit = log(*args, **kwargs)
            audit.ready()
            what = _safe(target, *args, **kwargs)
            info = _safe(details, *args, **kwargs)
            record: dict[str, Any] = dict(info) if isinstance(info, dict) else {}
            if info is not None and not isinstance(info, dict):
                record["details"] = info
            who = _safe(actor, *args, **kwargs)
            try:
                value = fn(*args, **kwargs)
            except BaseException as exc:
                audit.append(
                    action,
                    "" if what is None else str(what),
                    f"error:{type(exc).__name__}",
                    record,
                    None if who is None else str(who),
                )
                raise
            extra = _safe(result, value, *args, **kwargs)
            if isinstance(extra, dict):
                record.update(extra)
            elif extra is not None:
                record["result"] = extra
            audit.append(
                action,
                "" if what is None else str(what),
                "ok",
                record,
                None if who is None else str(who),
            )
            return value

        return inner

    return wrap
