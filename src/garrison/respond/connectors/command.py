"""Command connector: account disable and host isolation (and their undos) through a
site's own tool, run from an argv template, never through a shell.

``[respond.connectors.NAME]`` with ``type = "command"``::

    argv = ["/usr/local/bin/isolate", "--host", "{host}"]
    undo_argv = ["/usr/local/bin/isolate", "--release", "--host", "{host}"]
    check_argv = ["/usr/local/bin/isolate", "--dry-run", "--host", "{host}"]   # optional
    timeout = 30
    retry_exit_codes = [75]      # exit codes that mean "try again later" (EX_TEMPFAIL)
    pass_env = ["PATH"]          # the only environment variables the command inherits

Placeholders are ``{host}``, ``{user}``, ``{ip}`` (checked by ``safe.hostname``,
``safe.username``, ``safe.ip``), ``{key}`` (``safe.key``) and ``{action}``, ``{playbook}``,
``{step}`` (``safe.token``). Free text (a reason) is never substituted: the command reads
it, with everything else, as JSON on its standard input. A value that fails its check is a
``ConnectorError`` (not retryable), so no shell metacharacter, option-looking ``-value`` or
line break ever reaches an argv. ``check`` runs ``check_argv`` if configured, else checks
the template fills and the program is executable, and runs nothing.
"""

from __future__ import annotations

import json
import os
import signal
import string
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.options import option
from garrison.core.text import visible
from garrison.respond.connectors import safe
from garrison.respond.connectors.base import ConnectorError, Delivery, Receipt

#: Placeholder -> the check its value must pass (and where the value comes from).
PLACEHOLDERS: dict[str, Callable[[Any], object]] = {
    "host": safe.hostname,
    "user": safe.username,
    "ip": safe.ip,
    "key": safe.key,
    "action": safe.token,
    "playbook": safe.token,
    "step": safe.token,
}
_FROM_DELIVERY = ("key", "action", "playbook", "step")


def _template(argv: list[str]) -> tuple[str, ...]:
    """``argv`` if every ``{...}`` in it is a bare known placeholder."""
    if not argv or not argv[0].strip():
        raise ValueError("must name a program first")
    for arg in argv:
        for _, field, spec, conv in string.Formatter().parse(arg):
            if field is None:
                continue
            if field not in PLACEHOLDERS or spec or conv:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                raise ValueError(f"unknown placeholder {{{field}}} (known: {known})")
    if "{" in argv[0]:
        raise ValueError("the program itself must not be a placeholder")
    return tuple(argv)


def _optional_template(argv: list[str] | None) -> tuple[str, ...] | None:
    return None if argv is None else _template(argv)


@dataclass(slots=True)
class CommandOptions:
    argv: tuple[str, ...] = option(accepts=list[str], convert=_template)
    undo_argv: tuple[str, ...] | None = option(
        None, accepts=list[str] | None, convert=_optional_template
    )
    check_argv: tuple[str, ...] | None = option(
        None, accepts=list[str] | None, convert=_optional_template
    )
    timeout: float = option(30.0, min=0.1, max=3600)
    retry_exit_codes: tuple[int, ...] = (75,)
    pass_env: tuple[str, ...] = ("PATH",)


def values_of(delivery: Delivery) -> dict[str, str]:
    """Placeholder -> raw value from the delivery (unchecked; ``fill`` checks)."""
    out = {k: str(getattr(delivery, k)) for k in _FROM_DELIVERY if getattr(delivery, k)}
    for name in ("host", "user", "ip"):
        if name in delivery.params:
            out[name] = delivery.params[name]
    return out


def fill(template: tuple[str, ...], values: Mapping[str, Any]) -> list[str]:
    """``template`` with each placeholder replaced by its checked value; ``ValueError`` when
    a value is missing or unsafe. Built piece by piece: ``str.format`` is never used (it
    would follow ``{host.__class__}``-style lookups)."""
    argv = []
    for arg in template:
        pieces = []
        for literal, field, _, _ in string.Formatter().parse(arg):
            pieces.append(literal)
            if field is None:
                continue
            if field not in values:
                raise ValueError(f"the command needs {{{field}}}, which this action lacks")
            pieces.append(str(PLACEHOLDERS[field](values[field])))
        argv.append("".join(pieces))
    return argv


@dataclass(slots=True)
class Command:
    name: str
    options: CommandOptions
    kind: str = "command"

    def argv(self, delivery: Delivery, template: tuple[str, ...] | None = None) -> list[str]:
        template = template or self._template(delivery)
        try:
            return fill(template, values_of(delivery))
        except ValueError as exc:
            raise ConnectorError(f"command {self.name}: {exc}") from None

    def _template(self, delivery: Delivery) -> tuple[str, ...]:
        if not delivery.undo:
            return self.options.argv
        if self.options.undo_argv is None:
            raise ConnectorError(f"command {self.name}: no undo_argv configured")
        return self.options.undo_argv

    def check(self, delivery: Delivery) -> Receipt:
        argv = self.argv(delivery)
        if self.options.check_argv is not None:
            check = self.argv(delivery, self.options.check_argv)
            out = self._run(check, delivery)
            return Receipt(f"exit 0: {Path(check[0]).name}", out)
        program = Path(argv[0])
        if not (program.is_file() and os.access(program, os.X_OK)):
            raise ConnectorError(f"command {self.name}: {visible(argv[0])} is not executable")
        return Receipt("dry-run", f"would run {visible(' '.join(argv), 300)}")

    def send(self, delivery: Delivery) -> Receipt:
        argv = self.argv(delivery)
        out = self._run(argv, delivery)
        return Receipt(f"exit 0: {Path(argv[0]).name}", out)

    def _run(self, argv: list[str], delivery: Delivery) -> str:
        env = {k: os.environ[k] for k in self.options.pass_env if k in os.environ}
        stdin = json.dumps(
            {"action": delivery.action, "params": dict(delivery.params), "key": delivery.key,
             "undo": delivery.undo, "playbook": delivery.playbook, "step": delivery.step},
            ensure_ascii=True, default=list,
        )  # fmt: skip
        try:
            code, out, err = _run(argv, stdin, env, self.options.timeout)
        except subprocess.TimeoutExpired:
            raise ConnectorError(
                f"command {self.name}: timed out after {self.options.timeout:g}s", retryable=True
            ) from None
        except OSError as exc:
            raise ConnectorError(f"command {self.name}: cannot run: {exc.strerror}") from None
        if code != 0:
            raise ConnectorError(
                f"command {self.name}: exit {code}: {_tail(err)}",
                retryable=code in self.options.retry_exit_codes,
            )
        return _tail(out)


def _run(argv: list[str], stdin: str, env: dict[str, str], timeout: float) -> tuple[int, str, str]:
    """Run ``argv`` (no shell) in its own process group; on timeout the whole group is
    killed, so a child the command left behind cannot hold its pipes open."""
    with subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=env,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return proc.returncode, out, err


def _tail(text: str, width: int = 300) -> str:
    """The last lines of a command's output as one safe line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    joined = " | ".join(lines[-3:])
    safe_text = visible(joined)
    return safe_text if len(safe_text) <= width else "..." + safe_text[-width:]


def build(name: str, options: CommandOptions) -> Command:
    return Command(name, options)
