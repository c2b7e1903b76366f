"""Optional Ed25519 signing of the feed over its RFC 8785 canonical JSON.

The private key is a PEM file under instance/ (``feed-signing-key.pem``, mode 0600, or the
path in ``FEED_SIGNING_KEY``), made by ``lets-site federation keygen``. It is never in the
database, so a database dump never carries it. Without the file the feed is unsigned.

``_lets.signature = {alg, key_id, created, canon, value}`` is computed over the whole feed
without the ``signature`` member (:mod:`lets_site.signing`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

# The canonicalisation, signing and verifying, and the key's file, live in the base layer,
# shared with the aggregator (which verifies followed feeds and signs its merged feed).
from lets_site.signing import (  # noqa: F401 - this module's public names
    ALG,
    CANON,
    KEY_FILE,
    canonical,
    key_id,
    key_path,
    load_private_key,
    public_key_text,
    raw_public,
    sign,
    verify,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# The cryptography package is imported by the functions that sign or verify (the feed's
# requests and the key commands), not at start: a worker starts faster and smaller.


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
