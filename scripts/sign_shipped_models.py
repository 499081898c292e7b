"""Sign every shipped manifest with the release key (run by the maintainer at release time).

    GARRISON_RELEASE_KEY=/secure/release-key.pem python scripts/sign_shipped_models.py
    python scripts/sign_shipped_models.py --key /secure/release-key.pem [--check]
    python scripts/sign_shipped_models.py --new-key /secure/release-key.pem

The private key (PKCS#8 PEM, Ed25519) comes from ``--key`` or ``$GARRISON_RELEASE_KEY``
and must live outside the repository: the script refuses a key inside it, or one that
group or others can read. It writes ``MANIFEST.sig`` beside each shipped ``MANIFEST.json``
and the public half as ``garrison/detect/ml/models/release-key.pub`` (see
``garrison.govern.registry.release`` for what this does and does not protect against).
A stale manifest is refused: refresh it first (``python -m garrison.govern.registry.manifest``).
``--new-key PATH`` makes a key pair (the private key 0600 at PATH) and signs with it.
``--check`` signs nothing and exits 1 when a shipped signature does not verify.
"""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from garrison.core.errors import InputError
from garrison.govern.registry.keys import key_id
from garrison.govern.registry.manifest import shipped_folders, stale_message
from garrison.govern.registry.release import (
    public_pem,
    release_key_path,
    sign_folder,
    verified_manifest_bytes,
)


def _repo_root() -> Path | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return Path(out.stdout.strip()).resolve()


def _refuse_unsafe(path: Path) -> None:
    root = _repo_root()
    if root is not None and path.resolve().is_relative_to(root):
        raise InputError(f"{path} is inside the repository {root}: keep the release key out")
    if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise InputError(f"{path} is readable by group/others: `chmod 600 {path}`")


def new_key(path: Path) -> Ed25519PrivateKey:
    _refuse_unsafe(path)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return private


def load_key(path: Path) -> Ed25519PrivateKey:
    _refuse_unsafe(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path} is not an Ed25519 private key")
    return key


def sign_all(private: Ed25519PrivateKey) -> list[Path]:
    folders = shipped_folders()
    stale = [m for f in folders if (m := stale_message(f))]
    if stale:
        raise InputError("; ".join(stale))
    release_key_path().write_bytes(public_pem(private.public_key()))
    return [sign_folder(folder, private) for folder in folders]


def check_all() -> int:
    failed = 0
    for folder in shipped_folders():
        try:
            verified_manifest_bytes(folder, release_key_path())
            print(f"ok {folder}")
        except InputError as exc:
            print(f"FAIL {exc}")
            failed += 1
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key", type=Path, default=None)
    parser.add_argument("--new-key", type=Path, default=None)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.check:
            return check_all()
        if args.new_key is not None:
            private = new_key(args.new_key)
        else:
            source = args.key or os.environ.get("GARRISON_RELEASE_KEY")
            if not source:
                raise InputError("give the release key: --key PATH or $GARRISON_RELEASE_KEY")
            private = load_key(Path(source))
        for path in sign_all(private):
            print(f"signed {path}")
        print(f"release key {key_id(private.public_key())} -> {release_key_path()}")
    except (InputError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
