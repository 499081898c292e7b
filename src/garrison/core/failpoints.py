"""Named crash points, armed only by an environment variable, for crash-recovery tests.

A recovery claim ("a SIGKILL between approval and execution, then a restart, runs the
action exactly once") is only worth something if a test can kill a real process at that
exact point. Code marks the point with ``failpoint("respond.after-approval")``; a test
arms it in the child's environment::

    GARRISON_FAILPOINTS="respond.after-approval=pause:/tmp/x/at-point"

``pause:FILE`` writes FILE and sleeps until the process is killed (the test sends the
SIGKILL itself); ``kill`` sends SIGKILL to the process at once. Unarmed, a failpoint is
one dictionary lookup. Nothing else reads the variable.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ENV = "GARRISON_FAILPOINTS"


def _armed() -> dict[str, str]:
    text = os.environ.get(ENV, "")
    out: dict[str, str] = {}
    for item in text.split(","):
        name, _, action = item.strip().partition("=")
        if name and action:
            out[name] = action
    return out


def failpoint(name: str) -> None:
    """Do what ``GARRISON_FAILPOINTS`` arms for ``name``; nothing when it is not armed."""
    if ENV not in os.environ:
        return
    action = _armed().get(name)
    if action is None:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action.startswith("pause:"):
        Path(action.removeprefix("pause:")).write_text(str(os.getpid()), encoding="utf-8")
        while True:  # until the test kills the process
            time.sleep(0.05)
    raise ValueError(f"{ENV}: unknown action {action!r} for {name} (kill or pause:FILE)")
