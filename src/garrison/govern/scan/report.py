"""What a scan says about one file: a verdict and the findings behind it.

``safe``: every global the file names is on the allowlist, every call and state write goes
through one of them, and every part of the file was read. ``unsafe``: at least one finding.
``unreadable``: the scanner could not read the whole file (truncated, garbage, a format it
does not know), so it vouches for nothing; ``reason`` says why. A file that is unreadable
*and* already showed a finding is ``unsafe``: what was found is enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["safe", "unsafe", "unreadable"]


class Unreadable(Exception):
    """The bytes cannot be read as the format they claim; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One dangerous thing a file would make its loader do, with where it is.

    ``kind``: ``global`` (a name off the allowlist), ``call`` (a call of something that is
    not an allowlisted global, or of an unlisted one), ``dynamic-global`` (a name built at
    load time), ``extension`` (a copyreg extension code: a global by number),
    ``build-on-global`` (state written into a class or function), ``persistent-id`` (a
    loader-defined reference outside a PyTorch archive), ``skops-type`` (a skops type off
    the allowlist), ``object-array`` (an object array where only numbers belong),
    ``archive-member`` (a zip member that is not what the format allows), ``too-deep``.
    ``position``: byte offset of the opcode inside the pickle stream it belongs to;
    ``member``: the archive member (zip/tar entry) or the nesting path, ``None`` for the
    file itself."""

    kind: str
    module: str | None = None
    name: str | None = None
    position: int | None = None
    opcode: str | None = None
    member: str | None = None
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The finding as one JSON object (every key present, ``null`` when not known)."""
        return {
            "kind": self.kind,
            "module": self.module,
            "name": self.name,
            "position": self.position,
            "opcode": self.opcode,
            "member": self.member,
            "detail": self.detail,
        }

    def describe(self) -> str:
        """One short line for messages: ``posix.system (STACK_GLOBAL at byte 12)``."""
        what = f"{self.module}.{self.name}" if self.module is not None else self.kind
        where = [self.opcode or "", f"at byte {self.position}" if self.position is not None else ""]
        if self.member:
            where.append(f"in {self.member}")
        place = " ".join(w for w in where if w)
        return f"{what} ({self.kind}{': ' + place if place else ''})"


@dataclass(slots=True)
class Scan:
    """Findings gathered while reading one file, and why reading stopped early if it did."""

    findings: list[Finding] = field(default_factory=list)
    unreadable: str | None = None

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def verdict(self) -> Verdict:
        if self.findings:
            return "unsafe"
        return "unreadable" if self.unreadable is not None else "safe"


@dataclass(frozen=True, slots=True)
class FileReport:
    """The scan of one file: what ``garrison models scan`` prints as one JSON line."""

    path: str
    verdict: Verdict
    format: str
    findings: tuple[Finding, ...] = ()
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "verdict": self.verdict,
            "format": self.format,
            "findings": [f.as_json() for f in self.findings],
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    def summary(self) -> str:
        """One line for an error message: the verdict and what was found."""
        if self.verdict == "unsafe":
            shown = "; ".join(f.describe() for f in self.findings[:5])
            more = f"; and {len(self.findings) - 5} more" if len(self.findings) > 5 else ""
            return f"scan: unsafe: {shown}{more}"
        if self.verdict == "unreadable":
            return f"scan: unreadable: {self.reason}"
        return "scan: safe"
