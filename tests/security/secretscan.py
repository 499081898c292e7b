"""The repository's secret scan: detect-secrets over the git-tracked files, less the reviewed
exceptions in ``secrets_allowlist.toml``.

Why our own exception file rather than a detect-secrets baseline: a baseline pins each finding
to a line number (any edit above it breaks the match) and carries no reason; here every
exception says why it is not a secret, and exceptions for the detectors that recognise a
credential's *shape* (private keys, cloud keys, passwords) must pin the exact value by its
hash, so a second, real secret in the same file is still caught.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

ROOT = Path(__file__).resolve().parents[2]
ALLOWLIST = Path(__file__).with_name("secrets_allowlist.toml")
# git by its full path, resolved once (S607): None where git is not installed
GIT = shutil.which("git")

# Detectors that flag any random-looking string: an exception may cover a file pattern.
# Every other detector recognises a credential's shape: its exceptions must pin the value.
ENTROPY_TYPES = frozenset({"Hex High Entropy String", "Base64 High Entropy String"})
# detect-secrets reports a private key as its PEM header line alone, the same for every key
# of a kind: a pinned exception would wave through any key, so none is accepted.
NEVER_EXCEPTED = frozenset({"Private Key"})

# The inline "pragma: allowlist secret" comment would be an exception with no reason and no
# review: it is switched off, so every exception goes through the allowlist file.
_INLINE_ALLOWLIST = "detect_secrets.filters.allowlist.is_line_allowlisted"


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the scanned root, with "/" separators
    type: str
    line: int
    value_sha1: str  # detect-secrets' SHA-1 of the value: never the value itself

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.type} (value_sha1 {self.value_sha1})"


@dataclass(frozen=True)
class Exception_:
    files: str
    type: str
    reason: str
    value_sha1: str | None = None

    def covers(self, finding: Finding) -> bool:
        return (
            finding.type == self.type
            and fnmatch.fnmatchcase(finding.path, self.files)
            and self.value_sha1 in (None, finding.value_sha1)
        )


def load_allowlist(path: Path = ALLOWLIST) -> list[Exception_]:
    """The reviewed exceptions; ``ValueError`` for an entry without a reason, or one that
    waves through a credential-shaped detector without pinning the value."""
    items = tomllib.loads(path.read_text(encoding="utf-8")).get("allow", [])
    out = []
    for n, item in enumerate(items, 1):
        unknown = set(item) - {"files", "type", "reason", "value_sha1"}
        if unknown:
            raise ValueError(f"allowlist entry {n}: unknown keys {sorted(unknown)}")
        if not str(item.get("reason", "")).strip():
            raise ValueError(f"allowlist entry {n}: no reason given")
        if not item.get("files") or not item.get("type"):
            raise ValueError(f"allowlist entry {n}: needs files and type")
        if item["type"] in NEVER_EXCEPTED:
            raise ValueError(f"allowlist entry {n}: a {item['type']} finding is never excepted")
        if item["type"] not in ENTROPY_TYPES and not item.get("value_sha1"):
            raise ValueError(f"allowlist entry {n}: a {item['type']} exception must pin value_sha1")
        out.append(Exception_(item["files"], item["type"], item["reason"], item.get("value_sha1")))
    return out


def tracked_files(root: Path = ROOT) -> list[str]:
    """The git-tracked files under ``root`` that exist in the work tree."""
    if GIT is None:
        raise RuntimeError("git is not installed")
    res = subprocess.run(
        [GIT, "-C", str(root), "ls-files", "-z"], capture_output=True, check=True, timeout=60
    )
    names = [n for n in res.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    return [n for n in names if (root / n).is_file()]


def scan(root: Path, files: Iterable[str]) -> list[Finding]:
    """Every detect-secrets finding in ``files`` (paths relative to ``root``), all plugins on,
    offline (no detector verifies a value against a live service)."""
    found: list[Finding] = []
    with default_settings() as settings:
        settings.disable_filters(_INLINE_ALLOWLIST)
        collection = SecretsCollection(root=str(root))
        collection.scan_files(*files, num_processors=1)
        for filename, secret in collection:
            rel = Path(filename).as_posix()
            found.append(Finding(rel, secret.type, secret.line_number or 0, secret.secret_hash))
    return sorted(found, key=lambda f: (f.path, f.line, f.type))


def unexplained(findings: Iterable[Finding], allow: list[Exception_]) -> list[Finding]:
    return [f for f in findings if not any(e.covers(f) for e in allow)]
