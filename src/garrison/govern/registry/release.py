"""The release signature over each shipped folder's ``MANIFEST.json``.

At release time the maintainer signs every shipped manifest with the project's Ed25519
release key (``scripts/sign_shipped_models.py``; the private key never enters the
repository). The package ships the public half as ``detect/ml/models/release-key.pub`` and,
beside each manifest, ``MANIFEST.sig``: the key id and the signature over the folder's
name and the SHA-256 of the manifest's exact bytes. The loader and ``garrison models verify``
refuse a shipped folder whose signature does not verify, so editing a model, its card and
``MANIFEST.json`` together no longer passes: the edit would need the release key.

Both files must be in their canonical form (the bytes this module writes): a signature or
key written another way (upper-case hex, extra spaces, PEM re-wrapped) is refused even when
it decodes to the same value, so no change to a shipped file goes unnoticed.

What it does not protect against: a leaked release key (anyone holding it can sign), a
malicious build (the maintainer signs whatever is in the folder), and someone who can write
the installed package replacing ``release-key.pub`` together with the signatures. Against
the last, ``garrison models verify`` prints the release key id to compare with the one
published in the README, and installs should be hash-checked (``pip --require-hashes``)
into a folder the service account cannot write.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from garrison.core.errors import InputError
from garrison.govern.registry.artifacts import Artifact
from garrison.govern.registry.keys import key_id, verify_signature
from garrison.govern.registry.manifest import MANIFEST, parse_manifest, shipped_folder

SIGNATURE = "MANIFEST.sig"
PUBLIC_KEY = "release-key.pub"
FORMAT = "garrison-manifest-signature/1"


class UnsignedManifest(InputError):
    """A shipped manifest whose release signature is missing or does not verify."""


@dataclass(frozen=True, slots=True)
class ReleaseSignature:
    key: str
    signature: bytes

    def render(self) -> bytes:
        body = {"format": FORMAT, "key": self.key, "signature": self.signature.hex()}
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("ascii")


def payload(folder_name: str, manifest: bytes) -> bytes:
    """What the release key signs: the folder's name and the manifest's SHA-256 (a
    signature of one shipped folder does not verify another folder's manifest)."""
    body = {"folder": folder_name, "format": FORMAT, "manifest_sha256": _sha256(manifest)}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The release public key at ``path``, refused unless it is a canonical Ed25519 PEM."""
    try:
        data = path.read_bytes()
        key = serialization.load_pem_public_key(data)
    except FileNotFoundError:
        raise UnsignedManifest(f"release public key {path} is missing") from None
    except (OSError, ValueError, TypeError):
        raise UnsignedManifest(f"release public key {path} is unreadable") from None
    if not isinstance(key, Ed25519PublicKey) or public_pem(key) != data:
        raise UnsignedManifest(f"release public key {path} is not a canonical Ed25519 key")
    return key


def sign_folder(folder: Path, private: Ed25519PrivateKey) -> Path:
    """Write ``folder/MANIFEST.sig`` for the manifest there now."""
    manifest = (folder / MANIFEST).read_bytes()
    signed = ReleaseSignature(
        key_id(private.public_key()), private.sign(payload(folder.name, manifest))
    )
    path = folder / SIGNATURE
    path.write_bytes(signed.render())
    return path


def _read_signature(path: Path) -> ReleaseSignature:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnsignedManifest(f"{path} is missing: the shipped manifest is unsigned") from None
    except OSError as exc:
        raise UnsignedManifest(f"{path} is unreadable ({exc.strerror})") from None
    try:
        body = json.loads(data.decode("ascii"))
        parsed = ReleaseSignature(str(body["key"]), bytes.fromhex(str(body["signature"])))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise UnsignedManifest(f"{path} is not a release signature") from None
    if body.get("format") != FORMAT or parsed.render() != data:
        raise UnsignedManifest(f"{path} is not a release signature in canonical form")
    return parsed


def verified_manifest_bytes(folder: Path, key_path: Path) -> bytes:
    """The bytes of ``folder/MANIFEST.json``, once their release signature verifies with the
    key at ``key_path``; UnsignedManifest (an InputError) naming the reason otherwise."""
    public = load_public_key(key_path)
    signed = _read_signature(folder / SIGNATURE)
    try:
        manifest = (folder / MANIFEST).read_bytes()
    except OSError:
        raise UnsignedManifest(f"model manifest {folder / MANIFEST} is missing") from None
    if signed.key != key_id(public):
        raise UnsignedManifest(
            f"{folder / SIGNATURE} is signed by {signed.key}, not the release key {key_id(public)}"
        )
    if not verify_signature(public, signed.signature, payload(folder.name, manifest)):
        raise UnsignedManifest(
            f"{folder / MANIFEST} does not match its release signature (changed after the "
            "release was signed)"
        )
    return manifest


def release_key_path() -> Path:
    """The release public key shipped in the package."""
    return shipped_folder() / PUBLIC_KEY


def release_key_id(key_path: Path | None = None) -> str:
    return key_id(load_public_key(key_path or release_key_path()))


def load_signed_manifest(folder: Path, key_path: Path | None = None) -> dict[str, Artifact]:
    """The artefacts of ``folder``'s manifest, parsed from the very bytes whose release
    signature verified (``key_path`` default: the package's release key)."""
    data = verified_manifest_bytes(folder, key_path or release_key_path())
    return parse_manifest(data, folder / MANIFEST)
