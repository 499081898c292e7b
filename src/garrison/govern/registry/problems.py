"""A verification finding about one artefact, shared by the manifest and the home registry."""

from __future__ import annotations

from dataclasses import dataclass

#: Every kind of failure ``garrison models verify`` reports.
KINDS = (
    "digest-mismatch",  # a file's SHA-256 is not the one bound to it
    "missing-file",  # the manifest or a registry entry names a file that is not there
    "unregistered-file",  # a model file that no manifest entry or registry entry covers
    "bad-signature",  # a registry entry whose signature does not verify
    "unknown-signer",  # a registry entry signed by a key this home does not trust
    "binding-conflict",  # a name/version bound to another digest (or card says otherwise)
    "manifest-invalid",  # the shipped manifest is missing or unreadable
    "manifest-unsigned",  # the shipped manifest's release signature is missing or wrong
    "stage-invalid",  # a stage move not signed by a trusted key, or out of its chain
)


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    origin: str  # "shipped" or "home"
    name: str
    detail: str
    version: str = ""

    def __str__(self) -> str:
        label = f"{self.name} {self.version}".strip()
        return f"{self.origin} {label}: {self.kind}: {self.detail}"
