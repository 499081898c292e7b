"""The home's Ed25519 model-signing key and the public keys this home trusts.

The private key is generated on first use as ``HOME/keys/model-signing.key`` (PKCS#8 PEM,
file 0600, folder 0700) and its public half written beside it as ``model-signing.pub`` (to
hand to another home, which trusts it by dropping it into its ``keys/trusted/``). A key file
that group or others may read, or a key folder they may write, is refused: a key others
can read signs for them too. Key material never appears in messages or logs; keys are named
by their id, the first 16 hex digits of the SHA-256 of the raw public key.

Trusted signers are the home's own key (derived from the private key, so a swapped ``.pub``
file changes nothing) and every ``keys/trusted/*.pub``. The trust list lives in files, not
in the registry database, so whoever can write the database cannot add a signer.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from garrison.core.errors import InputError

KEY_DIR = "keys"
KEY_FILE = "model-signing.key"
PUB_FILE = "model-signing.pub"
TRUSTED_DIR = "trusted"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def _check_private(path: Path) -> None:
    """Refuse a key file (or its folder) others could read or replace."""
    info = path.stat()
    if info.st_mode & 0o077:
        raise InputError(
            f"signing key {path} is accessible to group/others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); refusing to use it: `chmod 600 {path}`"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise InputError(f"signing key {path} belongs to another user; refusing to use it")
    folder = path.parent.stat()
    if folder.st_mode & 0o022:
        raise InputError(
            f"key folder {path.parent} is writable by group/others (mode "
            f"{stat.S_IMODE(folder.st_mode):04o}); refusing it: `chmod 700 {path.parent}`"
        )


@dataclass(frozen=True, slots=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, payload: bytes) -> bytes:
        return self.private.sign(payload)

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey({self.id})"


def _key_folder(home: Path) -> Path:
    folder = home / KEY_DIR
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is masked by the umask
    return folder


def load_signing_key(home: Path) -> SigningKey | None:
    """The home's signing key, None when it has none yet; InputError when unsafe or bad."""
    path = home / KEY_DIR / KEY_FILE
    if not path.is_file():
        return None
    _check_private(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        # the exception text of a PEM parser may quote bytes: do not pass it on
        raise InputError(f"signing key {path} is unreadable ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"signing key {path} is not an Ed25519 key")
    return SigningKey(key)


def signing_key(home: Path) -> SigningKey:
    """The home's signing key, generated (0600 in a 0700 folder) on first use."""
    existing = load_signing_key(home)
    if existing is not None:
        return existing
    folder = _key_folder(home)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = folder / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        key = load_signing_key(home)
        if key is None:
            raise InputError(f"signing key {path} vanished while being created") from None
        return key
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / PUB_FILE).write_bytes(public)
    return SigningKey(private)


def trusted_keys(home: Path) -> dict[str, Ed25519PublicKey]:
    """Public keys by id: the home's own (when it has one) and ``keys/trusted/*.pub``."""
    out: dict[str, Ed25519PublicKey] = {}
    own = load_signing_key(home)
    if own is not None:
        out[own.id] = own.private.public_key()
    folder = home / KEY_DIR / TRUSTED_DIR
    if folder.is_dir():
        for path in sorted(folder.glob("*.pub")):
            try:
                key = serialization.load_pem_public_key(path.read_bytes())
            except (OSError, ValueError, TypeError):
                raise InputError(f"trusted key {path} is unreadable") from None
            if not isinstance(key, Ed25519PublicKey):
                raise InputError(f"trusted key {path} is not an Ed25519 public key")
            out[key_id(key)] = key
    return out


def verify_signature(public: Ed25519PublicKey, signature: bytes, payload: bytes) -> bool:
    try:
        public.verify(signature, payload)
    except InvalidSignature:
        return False
    return True
