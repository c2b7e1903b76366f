"""Ed25519 signatures over RFC 8785 canonical JSON: the one implementation the feed (which
signs) and the aggregator (which verifies) share. Base layer: it imports no feature.

A signed document carries ``_lets.signature = {alg, key_id, created, canon, value}``,
computed over the whole document without the ``signature`` member; ``value`` is the
base64url signature (no padding) and ``key_id`` the first 16 hex digits of the SHA-256 of
the raw public key. A public key is written as base64url of its 32 raw bytes.

The site's private key (if it has one) is a PEM file under instance/
(``feed-signing-key.pem``, or the path in ``FEED_SIGNING_KEY``): :func:`load_private_key`.
The group feed and the federation's merged feed both sign with it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rfc8785
from flask import current_app

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# The cryptography package is imported by the functions that need it (signing a feed,
# checking one, the key commands), not when the site starts: workers start faster.

ALG = "ed25519"
CANON = "rfc8785"
KEY_FILE = "feed-signing-key.pem"


def key_path() -> Path:
    """Where the site's private key is (it may not exist: then nothing is signed)."""
    configured = current_app.config.get("FEED_SIGNING_KEY")
    return Path(configured) if configured else Path(current_app.instance_path) / KEY_FILE


def load_private_key() -> Ed25519PrivateKey | None:
    """The site's private key, or None when it has none."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path()
    if not path.exists():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as readers register it: base64url of the 32 raw bytes, no padding."""
    return b64(raw_public(key))


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """base64url (or standard base64) without padding; ValueError when it is not."""
    text = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError(str(error)) from error


def canonical(document: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of the document without ``_lets.signature``."""
    unsigned = copy.deepcopy(document)
    lets = unsigned.get("_lets")
    if isinstance(lets, dict):
        lets.pop("signature", None)
    return bytes(rfc8785.dumps(unsigned))


def sign(document: dict[str, Any], key: Ed25519PrivateKey, created: str) -> dict[str, str]:
    return {"alg": ALG, "key_id": key_id(key), "created": created, "canon": CANON,
            "value": b64(key.sign(canonical(document)))}


def check(document: dict[str, Any], public_key: str) -> str | None:
    """Why the document's signature does not verify with ``public_key`` (base64url raw
    bytes), in plain words; None when it does."""
    lets = document.get("_lets")
    signature = lets.get("signature") if isinstance(lets, dict) else None
    if signature is None:
        return "the feed is not signed, but a key is registered for this group"
    if not isinstance(signature, dict) or signature.get("alg") != ALG \
            or signature.get("canon") != CANON or not isinstance(signature.get("value"), str):
        return "the feed's signature is not an Ed25519 signature over RFC 8785 JSON"
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = Ed25519PublicKey.from_public_bytes(unb64(public_key))
    except ValueError:
        return "the registered public key is not a valid Ed25519 key"
    try:
        public.verify(unb64(signature["value"]), canonical(document))
    except (InvalidSignature, ValueError, rfc8785.CanonicalizationError):
        return "the feed's signature does not match the registered key"
    return None


def verify(document: dict[str, Any], public_key: str) -> bool:
    """Does the document's signature verify with ``public_key``?"""
    return check(document, public_key) is None
