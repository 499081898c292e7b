"""The response service the CLI and the API call: respond, approvals, simulate.

    service = ResponseService.open(config, actor="alice", authorize=check)
    summary = service.respond([Path("playbooks")], mode="live")

``respond`` loads the playbooks (an invalid one stops everything: exit 2 naming file and
line), records which playbooks and which ``[respond]`` configuration it runs under (a
change is an audited event), applies expired approvals' fallbacks, resumes the runs a
crash or an approval left open, then starts each playbook on the stored findings and
incidents it has not handled yet. ``--mode`` caps each playbook's own mode: a playbook
written ``mode: shadow`` goes live only by a reviewed edit of the playbook.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig
from garrison.core.errors import InputError, UsageError
from garrison.core.timeutil import now_ms
from garrison.correlate.store import IncidentStore
from garrison.govern.access import Principal, require
from garrison.govern.audit import AuditLog, open_audit
from garrison.respond.actions import ACTIONS
from garrison.respond.approvals import Approvals, Vote
from garrison.respond.check import CheckReport, check_dir
from garrison.respond.config import ResponseConfig, load_response_config
from garrison.respond.connectors.base import Delivery
from garrison.respond.engine import Engine, Performer
from garrison.respond.ledger import ApprovalRow, Ledger, StepRow, dumps
from garrison.respond.matching import matches
from garrison.respond.playbook import MODES, Playbook
from garrison.respond.simulate import SimulationReport, simulate
from garrison.respond.subjects import stored_subjects
from garrison.store.lock import WriterLock
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore

#: The playbooks Garrison ships (all in shadow but the ticket one): used when no folder
#: is given.
BUNDLED = Path(__file__).resolve().parent.parent / "content" / "playbooks"
RUN = "respond.run"
#: Seconds an approval or a respond run waits for another one acting on the same home.
LOCK_WAIT = 600.0
LOCK_HINT = "wait for the other garrison respond or approvals command"


def _respond_folder(state: StateDB) -> Path:
    folder = Path(state.path).parent / "respond"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def capped(mode: str, cap: str | None) -> str:
    """The less active of a playbook's mode and the command line's cap."""
    if cap is None:
        return mode
    if cap not in MODES:
        raise UsageError(f"--mode must be one of {', '.join(MODES)}, not {cap!r}")
    return MODES[min(MODES.index(mode), MODES.index(cap))]


def load_playbooks(folders: Sequence[Path]) -> list[tuple[Playbook, str]]:
    """Every playbook of the folders with its text; any invalid one is an ``InputError``."""
    out: list[tuple[Playbook, str]] = []
    ids: dict[str, str] = {}
    for folder in folders or [BUNDLED]:
        report: CheckReport = check_dir(folder)
        if report.problems:
            first = report.problems[0]
            raise InputError(
                f"{len(report.problems)} invalid playbook(s), first {first}; "
                "nothing was run (garrison playbooks check lists them all)"
            )
        for playbook in report.playbooks:
            if playbook.id in ids:
                raise InputError(
                    f"playbook id {playbook.id!r} is in both {ids[playbook.id]} and "
                    f"{playbook.source}"
                )
            ids[playbook.id] = playbook.source
            out.append((playbook, Path(playbook.source).read_text(encoding="utf-8")))
    return out


@dataclass(slots=True)
class RespondSummary:
    started: Counter[str] = field(default_factory=Counter)  # playbook -> runs started
    modes: dict[str, str] = field(default_factory=dict)  # playbook -> effective mode
    steps: Counter[str] = field(default_factory=Counter)  # status -> steps (this call)
    resumed: int = 0
    expired: int = 0
    pending: int = 0  # approvals waiting after the call

    def to_json(self) -> dict[str, Any]:
        return {
            "started": dict(self.started),
            "modes": self.modes,
            "steps": dict(self.steps),
            "resumed": self.resumed,
            "expired": self.expired,
            "pending_approvals": self.pending,
        }


@dataclass(frozen=True, slots=True)
class ApprovalView:
    approval: ApprovalRow
    votes: list[Vote]
    playbook: str
    subject: dict[str, Any]


class ResponseService:
    def __init__(
        self,
        cfg: ResponseConfig,
        state: StateDB,
        audit: AuditLog,
        performer: Performer,
        authorize: Callable[[str], None],
        actor: str | None = None,
        clock: Callable[[], int] = now_ms,
        raw_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.cfg, self.state, self.audit = cfg, state, audit
        self.ledger = Ledger(state)
        self.engine = Engine(self.ledger, audit, cfg, performer, actor, clock)
        self.approvals = Approvals(self.engine, authorize)
        self.authorize = authorize
        self._raw = dict(raw_config or {})
        #: One acting process per home at a time (None for an in-memory state): two
        #: concurrent ``respond`` runs would each take the other's in-flight step for a
        #: crashed one and send it again.
        self._lock = (
            None
            if state.path == ":memory:"
            else WriterLock(_respond_folder(state), "the response engine of", LOCK_HINT)
        )

    @contextmanager
    def _acting(self) -> Iterator[None]:
        if self._lock is None:
            yield
            return
        self._lock.acquire(wait=LOCK_WAIT)
        try:
            yield
        finally:
            self._lock.release()

    @classmethod
    def open(
        cls,
        config: GarrisonConfig,
        identify: Callable[[StateDB], Principal],
        performer: Performer | None = None,
    ) -> ResponseService:
        """The service on the state under ``config.home``, acting as the principal
        ``identify`` authenticates on it (the CLI: the OS account's registered user; the
        API: the token's or session's); connectors from ``[respond]``."""
        cfg = load_response_config(config.raw, config.path)
        if performer is None:
            from garrison.respond.wiring import performer_for

            performer = performer_for(cfg, config.path)
        state = StateDB(config.home / "state.db")
        principal = identify(state)
        audit = open_audit(config.home, state)

        def authorize(permission: str) -> None:
            require(principal, permission)

        return cls(
            cfg,
            state,
            audit,
            performer,
            authorize,
            principal.name,
            raw_config=config.raw.get("respond") or {},
        )

    # -- respond ----------------------------------------------------------------------------
    def respond(self, folders: Sequence[Path], mode: str | None = None) -> RespondSummary:
        self.authorize("respond.run")
        capped("live", mode)  # an unknown mode is refused before anything happens
        playbooks = load_playbooks(folders)
        prepare = getattr(self.engine.performer, "prepare", None)
        if prepare is not None:
            prepare()  # a bad [respond.connectors] table stops the run before it acts
        with self._acting():
            return self._respond(playbooks, mode)

    def _respond(self, playbooks: list[tuple[Playbook, str]], mode: str | None) -> RespondSummary:
        self._note_changes(playbooks)
        summary = RespondSummary()
        summary.expired = len(self.approvals.expire_due())
        before = {(s.run_id, s.step): s.status for s in self.ledger.all_steps()}
        for run in self.ledger.open_runs():
            self.engine.advance(run)
            summary.resumed += 1
        subjects = list(stored_subjects(FindingStore(self.state), IncidentStore(self.state)))
        for playbook, text in playbooks:
            effective = capped(playbook.mode, mode)
            summary.modes[playbook.id] = effective
            handled = self.ledger.handled(playbook.id)
            for subject in subjects:
                if (subject.kind, subject.uid) in handled or not matches(playbook.trigger, subject):
                    continue
                if self.engine.start(playbook, text, subject, effective):
                    summary.started[playbook.id] += 1
        for row in self.ledger.all_steps():
            if before.get((row.run_id, row.step)) != row.status:
                summary.steps[row.status] += 1
        summary.pending = len(self.ledger.approvals("pending"))
        return summary

    def _note_changes(self, playbooks: list[tuple[Playbook, str]]) -> None:
        """Audit each playbook and configuration seen for the first time or changed."""
        now = self.engine.clock()
        seen = [("playbook", p.id, text, p.source) for p, text in playbooks]
        seen.append(("config", "respond", dumps(self._raw), "[respond]"))
        for kind, name, text, source in seen:
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
            before = self.ledger.seen(kind, name)
            if before == digest:
                continue
            action = f"{kind}.{'add' if before is None else 'change'}"
            self.audit.append(
                action,
                name,
                "ok",
                {"digest": digest, "before": before, "source": source},
                self.engine.actor,
            )
            self.ledger.mark_seen(kind, name, digest, now)

    # -- approvals --------------------------------------------------------------------------
    def list_approvals(self, status: str | None = "pending") -> list[ApprovalView]:
        self.authorize("approvals.read")
        self.approvals.expire_due()
        out = []
        for row in self.ledger.approvals(status):
            run = self.ledger.run(row.run_id)
            out.append(
                ApprovalView(
                    row,
                    self.approvals.votes(row),
                    run.playbook if run else "",
                    dict(run.subject) if run else {},
                )
            )
        return out

    def approve(self, approval_id: str, edits: Mapping[str, str] | None = None) -> ApprovalRow:
        with self._acting():
            return self.approvals.approve(approval_id, edits)

    def reject(self, approval_id: str, reason: str) -> ApprovalRow:
        with self._acting():
            return self.approvals.reject(approval_id, reason)

    # -- undo -------------------------------------------------------------------------------
    def actions(self, limit: int = 50) -> list[StepRow]:
        """Executed and undone actions, most recent first."""
        self.authorize("approvals.read")
        return self.ledger.executed(limit)

    def undo(self, key: str) -> StepRow:
        """Revert an executed reversible action (lift the block, close the ticket, release
        the host) through the connector that did it, with the same idempotency key."""
        self.authorize("respond.run")
        with self._acting():
            return self._undo(key)

    def _undo(self, key: str) -> StepRow:
        row = self.ledger.step_by_key(key.strip())
        if row is None:
            raise UsageError(f"no executed action with key {key.strip()[:40]!r}")
        if row.status != "succeeded":
            raise UsageError(f"action {row.key} is {row.status}: only a succeeded one is undone")
        if not ACTIONS.get(row.action).undoable:
            raise UsageError(f"{row.action} cannot be undone")
        run = self.ledger.run(row.run_id)
        delivery = Delivery(
            row.action, row.params, row.key, run.playbook if run else "", row.step, undo=True
        )
        result = self.engine.performer(delivery, True)
        ok = result.receipt is not None
        self.audit.append(
            "respond.undo",
            row.key,
            "ok" if ok else "error:failed",
            {
                "action": row.action,
                "params": row.params,
                "attempts": result.attempts,
                "reason": result.error,
            },
            self.engine.actor,
        )
        if not ok:
            raise UsageError(f"undo of {row.key} failed: {result.error}")
        undone = replace(row, status="undone", reason=f"undone by {self.engine.actor}")
        self.ledger.put_step(undone, self.engine.clock())
        return undone

    # -- playbooks --------------------------------------------------------------------------
    def playbooks(self, folders: Sequence[Path]) -> list[Playbook]:
        """The valid playbooks of the folders (default: the shipped ones)."""
        self.authorize("playbooks.read")
        return [playbook for playbook, _ in load_playbooks(folders)]

    def check_text(self, text: str) -> Playbook:
        """The playbook written in ``text``, or ``InputError`` naming the line and reason
        (nothing is stored or run: checking an uploaded playbook before it is deployed)."""
        from garrison.respond.check import load_text
        from garrison.respond.nodes import Invalid

        self.authorize("playbooks.check")
        try:
            return load_text(text, "<uploaded>")
        except Invalid as exc:
            raise InputError(f"line {exc.line}: {exc.reason}") from None

    # -- simulation -------------------------------------------------------------------------
    def simulate(self, folders: Sequence[Path]) -> SimulationReport:
        """What the playbooks would have done on the stored findings and incidents."""
        self.authorize("playbooks.read")
        playbooks = load_playbooks(folders)
        subjects = stored_subjects(FindingStore(self.state), IncidentStore(self.state))
        return simulate(playbooks, subjects, self.cfg)

    def close(self) -> None:
        self.state.close()
