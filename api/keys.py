"""API keys for services: random, shown once when created, kept only as SHA-256 hashes in the store
folder (``api_keys.json``), each tied to a name (the user or service it identifies) and a role
("reader" asks and searches; "maintainer" also adds, removes and re-indexes documents).

A key is 32 random bytes, so a plain SHA-256 is enough to keep it at rest: there is nothing to guess.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from filelock import FileLock

ROLES = ("reader", "maintainer")
PREFIX = "pa_"


@dataclass
class ApiKey:
    name: str
    role: str
    hash: str
    created: float
    groups: list[str] = field(default_factory=list)  # the libraries' groups its caller reads (access/policy.py)

    @property
    def id(self) -> str:
        return self.hash[:12]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The keys of one store folder. Writes go through a temporary file and a rename."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / "api_keys.json"
        self._lock = FileLock(str(self.path) + ".lock")

    def load(self) -> list[ApiKey]:
        if not self.path.is_file():
            return []
        return [ApiKey(**row) for row in json.loads(self.path.read_text(encoding="utf-8"))]

    def _save(self, keys: list[ApiKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, encoding="utf-8") as fh:
            json.dump([asdict(k) for k in keys], fh, indent=1)
        os.chmod(fh.name, 0o600)
        os.replace(fh.name, self.path)

    def create(self, name: str, role: str = "reader", groups: list[str] | None = None) -> str:
        """A new key for ``name``; the key itself is returned once and never stored."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not name.strip():
            raise ValueError("a key needs the name of the user or service it is for")
        key = PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            keys = self.load()
            keys.append(ApiKey(name=name.strip(), role=role, hash=_digest(key), created=time.time(),
                               groups=sorted(set(groups or []))))
            self._save(keys)
        return key

    def revoke(self, id_or_name: str) -> int:
        """Remove the keys whose id or name matches; how many were removed."""
        with self._lock:
            keys = self.load()
            kept = [k for k in keys if id_or_name not in (k.id, k.name)]
            self._save(kept)
        return len(keys) - len(kept)

    def find(self, key: str, keys: list[ApiKey] | None = None) -> ApiKey | None:
        """The stored key ``key`` hashes to, among ``keys`` (already loaded) or the file's."""
        digest = _digest(key)
        for candidate in self.load() if keys is None else keys:
            if hmac.compare_digest(candidate.hash, digest):
                return candidate
        return None
