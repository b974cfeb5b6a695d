"""API key material: generation, hashing, parsing. No I/O."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "fbk"


@dataclass(frozen=True, slots=True)
class NewKey:
    prefix: str
    secret_hash: str
    plaintext: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a plain SHA-256 is as strong as a slow KDF
    # here and keeps every request's key check cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> NewKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(
        prefix=prefix, secret_hash=hash_secret(secret), plaintext=f"{KEY_PREFIX}_{prefix}_{secret}"
    )


def split_key(plaintext: str) -> tuple[str, str] | None:
    """`fbk_<prefix>_<secret>` → (prefix, secret), or None when it is not shaped like a key."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)
