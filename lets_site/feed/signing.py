"""Optional Ed25519 signing of the feed over its RFC 8785 canonical JSON.

The private key is a PEM file under instance/ (``feed-signing-key.pem``, mode 0600, or the
path in ``FEED_SIGNING_KEY``), made by ``lets-site federation keygen``. It is never in the
database, so a database dump never carries it. Without the file the feed is unsigned.

``_lets.signature = {alg, key_id, created, canon, value}`` is computed over the whole feed
without the ``signature`` member; ``value`` is the base64url signature (no padding) and
``key_id`` the first 16 hex digits of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rfc8785
from flask import current_app

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# The cryptography package is imported by the functions that sign or verify (the feed's
# requests and the key commands), not at start: a worker starts faster and smaller.

KEY_FILE = "feed-signing-key.pem"
ALG = "ed25519"
CANON = "rfc8785"


def key_path() -> Path:
    configured = current_app.config.get("FEED_SIGNING_KEY")
    return Path(configured) if configured else Path(current_app.instance_path) / KEY_FILE


def load_private_key() -> Ed25519PrivateKey | None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path()
    if not path.exists():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def generate(path: Path, force: bool = False) -> Ed25519PrivateKey:
    """Write a new private key to ``path`` (mode 0600 from the start: the file is created
    with those permissions, never readable by others for a moment)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists() and not force:
        raise FileExistsError(str(path))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    path.chmod(0o600)
    return key


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as readers register it: base64url of the 32 raw bytes, no padding."""
    return _b64(raw_public(key))


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(feed: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of the feed without ``_lets.signature``."""
    unsigned = copy.deepcopy(feed)
    unsigned.get("_lets", {}).pop("signature", None)
    return bytes(rfc8785.dumps(unsigned))


def sign(feed: dict[str, Any], key: Ed25519PrivateKey, created: str) -> dict[str, str]:
    return {"alg": ALG, "key_id": key_id(key), "created": created, "canon": CANON,
            "value": _b64(key.sign(canonical(feed)))}


def verify(feed: dict[str, Any], public_key: str) -> bool:
    """Does the feed's signature verify with ``public_key`` (base64url raw bytes)?"""
    signature = feed.get("_lets", {}).get("signature")
    if not isinstance(signature, dict) or signature.get("alg") != ALG \
            or signature.get("canon") != CANON:
        return False
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = Ed25519PublicKey.from_public_bytes(_unb64(public_key))
        public.verify(_unb64(str(signature.get("value", ""))), canonical(feed))
    except (InvalidSignature, ValueError):
        return False
    return True
