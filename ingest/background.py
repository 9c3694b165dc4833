"""Indexing started by a maintainer (the chat's maintainer page, the HTTP API) runs on a server
thread, not in the maintainer's session: closing the tab no longer stops it (300 files uploaded, tab
closed after 1.5 s: 256 indexed, 44 left in uploads/ with no report), and whoever looks next sees its
progress or its outcome, by run id. One run at a time for the whole server."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .pipeline import IngestReport
from .pipeline import run as ingest_run

log = logging.getLogger("policy_assistant.indexing")


@dataclass
class IndexRun:
    label: str  # "Indexing" (uploads) or "Reading" (re-index)
    started: float
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    done: int = 0
    total: int = 0
    current: str = ""
    report: IngestReport | None = None
    error: str = ""
    finished: float | None = None
    rejected: list[dict] = field(default_factory=list)  # uploads refused before indexing
    replaced: list[str] = field(default_factory=list)  # uploads saved over an earlier one

    @property
    def running(self) -> bool:
        return self.finished is None


class Indexer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last: IndexRun | None = None
        self.runs: dict[str, IndexRun] = {}  # by id, the latest 100

    def start(self, label: str, paths: list[Path], helper, rejected: list[dict] | None = None,
              replaced: list[str] | None = None) -> IndexRun | None:
        """Start a run on a daemon thread; None when one is already running."""
        with self._lock:
            if self.last is not None and self.last.running:
                return None
            run = IndexRun(label=label, started=time.time(), rejected=list(rejected or []),
                           replaced=list(replaced or []))
            self.last = run
            self.runs[run.id] = run
            while len(self.runs) > 100:
                self.runs.pop(next(iter(self.runs)))
        threading.Thread(target=self._work, args=(run, paths, helper), name="maintainer-index", daemon=True).start()
        return run

    def wait(self, timeout: float) -> bool:
        """For tests and shutdown: True when no run is going (any more) within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while self.last is not None and self.last.running and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.last is None or not self.last.running

    @staticmethod
    def _work(run: IndexRun, paths: list[Path], helper) -> None:
        def progress(index: int, total: int, name: str) -> None:
            run.done, run.total, run.current = index, total, name

        try:
            run.report = ingest_run(paths, helper.settings, embedder=helper.embedder, store=helper.store,
                                    progress=progress, lock_timeout=600.0)
            # The keyword index looks at the store at most once a second; rebuild it now so that
            # a question asked straight after this sees the change.
            helper.warm_up()
        except Exception as exc:  # noqa: BLE001 - the outcome is shown to the maintainer, details logged
            log.exception("indexing run failed")
            run.error = str(exc) or type(exc).__name__
        finally:
            run.finished = time.time()


indexer = Indexer()
