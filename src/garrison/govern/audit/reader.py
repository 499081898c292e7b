"""Reading the audit log for an identity: entries with filters, verification, head export.

The CLI reads the log of its own home directly (whoever runs it owns the files); the API
reads it for a remote principal, so each reading here asks ``authorize`` first
(``audit.read`` for entries, ``audit.verify`` for verification and the head).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from garrison.govern.audit.chain import Verdict
from garrison.govern.audit.entry import AuditEntry
from garrison.govern.audit.head import ExportedHead
from garrison.govern.audit.log import AuditLog


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """``action`` is a glob (``allowlist.*``); times are ms epoch; ``before`` a seq (for
    paging back from the newest); ``None`` or "" leaves a filter out."""

    action: str = ""
    actor: str = ""
    since: int | None = None
    until: int | None = None
    before: int | None = None
    limit: int = 50


class AuditReader:
    def __init__(self, log: AuditLog, authorize: Callable[[str], None]) -> None:
        self.log = log
        self.authorize = authorize

    def entries(self, f: AuditFilter) -> list[AuditEntry]:
        """The newest entries matching ``f`` (not verified: ``verify`` does that)."""
        self.authorize("audit.read")
        out: list[AuditEntry] = []
        for entry in self.log.entries(None, f.action or None):
            if len(out) >= max(1, f.limit):
                break
            if f.before is not None and entry.seq >= f.before:
                continue
            if f.actor and entry.actor != f.actor:
                continue
            if f.since is not None and entry.time < f.since:
                continue
            if f.until is not None and entry.time > f.until:
                continue
            out.append(entry)
        return out

    def verify(self, exported: ExportedHead | None = None) -> Verdict:
        """The chain, its head record and (given) an exported head checked."""
        self.authorize("audit.verify")
        return self.log.verify(exported)

    def export_head(self) -> tuple[Verdict, ExportedHead]:
        self.authorize("audit.verify")
        return self.log.export_head()
