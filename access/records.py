"""Saved conversations and the audit log, in one SQLite file in the store folder
(settings.records_path).

SQLite because it is a real database in the standard library: one file beside the index, safe for
several threads and processes (WAL journal, a busy timeout), transactions for every write. Each call
opens its own connection: app replicas on one machine and the CLI can all write.

The audit log is append-only: triggers refuse any UPDATE, and any DELETE of a record newer than the
purge horizon, which only ``purge()`` moves (to now minus ``retention_days``).
"""
from __future__ import annotations

import csv
import io
import json
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .policy import User

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,               -- seconds since 1970 (UTC)
    user TEXT NOT NULL,
    groups TEXT NOT NULL,           -- JSON list
    action TEXT NOT NULL,           -- ask, search, feedback, upload, remove, reindex, share, export, ...
    question TEXT NOT NULL DEFAULT '',
    retrieved TEXT NOT NULL DEFAULT '[]',   -- JSON list of chunk ids shown to the answerer
    cited TEXT NOT NULL DEFAULT '[]',       -- JSON list of chunk ids quoted to the user
    detail TEXT NOT NULL DEFAULT '{}'       -- JSON object
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TABLE IF NOT EXISTS audit_horizon (id INTEGER PRIMARY KEY CHECK (id = 1), before REAL NOT NULL);
INSERT OR IGNORE INTO audit_horizon (id, before) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
WHEN old.at >= (SELECT before FROM audit_horizon WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit records are removed only when older than the retention period'); END;

CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,            -- random: also the shared link's key
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations(owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    content TEXT NOT NULL,          -- JSON: question, answer (with citations), scope
    sources TEXT NOT NULL,          -- JSON list: every document the turn quoted or was answered from
    PRIMARY KEY (conversation, seq)
);
"""
_PURGE_EVERY_S = 3600.0
AUDIT_COLUMNS = ("id", "at", "user", "groups", "action", "question", "retrieved", "cited", "detail")


@dataclass
class Conversation:
    id: str
    owner: str
    title: str
    created: float
    updated: float
    shared: bool = False
    turns: list[dict] = field(default_factory=list)  # content of each turn, in order
    sources: set[str] = field(default_factory=set)  # every document its turns drew on


class NotAllowed(Exception):
    """The user may not open (or change) this conversation; the message never says more than that."""


class Records:
    """The conversations and audit log of one store folder."""

    def __init__(self, path: Path, retention_days: int = 365):
        self.path = Path(path)
        self.retention_days = retention_days
        self._purged_at = 0.0
        self._ready = False
        self._lock = threading.Lock()

    @contextmanager
    def _db(self):
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with self._connect() as db:
                        db.execute("PRAGMA journal_mode=WAL")
                        db.executescript(_SCHEMA)
                    self.path.chmod(0o600)  # questions can hold personal data
                    self._ready = True
        db = self._connect()
        try:
            with db:  # one transaction: committed, or rolled back on error
                yield db
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    # --- audit -------------------------------------------------------------------------------
    def log(self, user: User, action: str, question: str = "", retrieved=(), cited=(), **detail) -> None:
        """Append one record: who did what, when, and which passages were retrieved and cited."""
        with self._db() as db:
            db.execute("INSERT INTO audit (at, user, groups, action, question, retrieved, cited, detail) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (time.time(), user.id, json.dumps(sorted(user.groups)), action, question,
                        json.dumps(list(retrieved)), json.dumps(list(cited)), json.dumps(detail, default=str)))
        if time.monotonic() - self._purged_at > _PURGE_EVERY_S:
            self.purge()

    def log_answer(self, user: User, answer, via: str, **detail) -> None:
        """Record a question and its answer (an assistant.Answer): the chunks retrieved and quoted,
        refused or not, and where it was asked (chat, api, ...)."""
        self.log(user, "ask", answer.question, [h.chunk_id for h in answer.hits],
                 [c.chunk_id for c in answer.citations], refused=answer.refused, via=via, **detail)

    def purge(self, now: float | None = None) -> int:
        """Delete the records older than the retention period; how many went."""
        self._purged_at = time.monotonic()
        before = (now or time.time()) - self.retention_days * 86400
        with self._db() as db:
            db.execute("UPDATE audit_horizon SET before = ? WHERE id = 1", (before,))
            return db.execute("DELETE FROM audit WHERE at < ?", (before,)).rowcount

    def audit(self, *, user: str | None = None, action: str | None = None, since: float | None = None,
              until: float | None = None, text: str | None = None, limit: int = 10_000) -> list[dict]:
        """Records newest first, filtered by user, action, time range and words of the question."""
        clauses, values = [], []
        for column, op, value in (("user", "=", user), ("action", "=", action), ("at", ">=", since), ("at", "<", until)):
            if value not in (None, ""):
                clauses.append(f"{column} {op} ?")
                values.append(value)
        if text:
            clauses.append("question LIKE ? ESCAPE '\\'")
            values.append("%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", (*values, limit)).fetchall()
        return [dict(row) for row in rows]

    @staticmethod
    def to_csv(rows: list[dict]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            # ISO time for people; a leading quote stops a spreadsheet reading "=..." as a formula.
            row = dict(row, at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["at"])))
            writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()})
        return out.getvalue()

    # --- conversations -----------------------------------------------------------------------
    def start(self, owner: User, title: str) -> str:
        conversation = secrets.token_urlsafe(16)
        now = time.time()
        with self._db() as db:
            db.execute("INSERT INTO conversations (id, owner, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                       (conversation, owner.id, _title(title), now, now))
        return conversation

    def add_turn(self, conversation: str, owner: User, content: dict, sources) -> None:
        with self._db() as db:
            self._owned(db, conversation, owner)
            seq = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM turns WHERE conversation = ?",
                             (conversation,)).fetchone()[0]
            now = time.time()
            db.execute("INSERT INTO turns (conversation, seq, at, content, sources) VALUES (?, ?, ?, ?, ?)",
                       (conversation, seq, now, json.dumps(content), json.dumps(sorted(set(sources)))))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))

    def conversations(self, owner: User) -> list[Conversation]:
        """The user's conversations, most recently used first (without their turns)."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM conversations WHERE owner = ? ORDER BY updated DESC",
                              (owner.id,)).fetchall()
        return [Conversation(r["id"], r["owner"], r["title"], r["created"], r["updated"], bool(r["shared"]))
                for r in rows]

    def open(self, conversation: str, reader: User, may_read=None) -> Conversation:
        """The conversation with its turns, for its owner; for anyone else only when the owner
        shared it and ``may_read(source)`` holds for every document it drew on."""
        with self._db() as db:
            row = db.execute("SELECT * FROM conversations WHERE id = ?", (conversation,)).fetchone()
            turns = db.execute("SELECT content, sources FROM turns WHERE conversation = ? ORDER BY seq",
                               (conversation,)).fetchall() if row else []
        found = Conversation(row["id"], row["owner"], row["title"], row["created"], row["updated"],
                             bool(row["shared"])) if row else None
        if found is not None:
            found.turns = [json.loads(t["content"]) for t in turns]
            found.sources = {s for t in turns for s in json.loads(t["sources"])}
        if found is None or (found.owner != reader.id and not (
                found.shared and may_read is not None and all(may_read(s) for s in found.sources))):
            raise NotAllowed("this conversation does not exist, or you may not open it")
        return found

    def rename(self, conversation: str, owner: User, title: str) -> None:
        with self._db() as db:
            self._owned(db, conversation, owner)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (_title(title), conversation))

    def share(self, conversation: str, owner: User, shared: bool = True) -> None:
        with self._db() as db:
            self._owned(db, conversation, owner)
            db.execute("UPDATE conversations SET shared = ? WHERE id = ?", (int(shared), conversation))

    def delete(self, conversation: str, owner: User) -> None:
        with self._db() as db:
            self._owned(db, conversation, owner)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    @staticmethod
    def _owned(db, conversation: str, owner: User) -> None:
        row = db.execute("SELECT owner FROM conversations WHERE id = ?", (conversation,)).fetchone()
        if row is None or row["owner"] != owner.id:
            raise NotAllowed("this conversation does not exist, or it is not yours")


def _title(text: str) -> str:
    text = " ".join(str(text).split())
    return (text[:77] + "…") if len(text) > 80 else (text or "Conversation")
