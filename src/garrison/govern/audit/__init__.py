"""Tamper-evident audit log of privileged actions (HMAC hash chain in the home's state).

``open_audit(home)`` gives the home's log; ``MemoryAuditLog`` is its in-memory twin;
``@audited`` records one entry per call of a service method. See ``log`` for what the chain
protects against and what it does not.
"""

from garrison.govern.audit.chain import Verdict, verify_chain
from garrison.govern.audit.decorator import audited
from garrison.govern.audit.digests import artifact_digests, sha256_file
from garrison.govern.audit.entry import REDACTED, AuditEntry, redact
from garrison.govern.audit.head import ExportedHead, read_head_file
from garrison.govern.audit.keys import AuditKeyError, Head, KeyStore
from garrison.govern.audit.log import (
    AuditLog,
    MemoryAuditLog,
    SqliteAuditLog,
    audit_for_state,
    open_audit,
)

__all__ = [
    "REDACTED",
    "AuditEntry",
    "AuditKeyError",
    "AuditLog",
    "ExportedHead",
    "Head",
    "KeyStore",
    "MemoryAuditLog",
    "SqliteAuditLog",
    "Verdict",
    "artifact_digests",
    "audit_for_state",
    "audited",
    "open_audit",
    "read_head_file",
    "redact",
    "sha256_file",
    "verify_chain",
]
