"""Crash safety: `policy-assistant ingest` killed with SIGKILL at random points, then re-run.

The write order (ingest/pipeline.py), each step one store call for a batch of files: forget their
manifest records, delete their old chunks, add the new ones, record them. So a kill anywhere leaves
at worst files with no record (the next run re-ingests them) and chunks no record owns (the next
run sweeps them). After every kill a manifest record never points at a missing chunk; after the
final run the store holds exactly what a clean ingest of the same folder holds, and answers the same.

Two kinds of kill, with delays drawn from a fixed seed (printed, the same in every run):
  anywhere     `python -m assistant.cli ingest DIR --json`, SIGKILL after a random delay between
               2 s and the length of a clean run: mostly lands while the model loads or embeds,
               where nothing has been written yet.
  write phase  the same CLI entry (assistant.cli.main) started through a two-line launcher that
               prints a line on stderr when the first batch write begins; SIGKILL a random
               0-1 s later, inside or just after the four store calls. Writes are batched, so they
               take about a second of a run: random kills alone would almost never land there.
The folder is the seed articles, two NHS PDFs and 250 one-paragraph council-duty files: ~310
chunks, so two batches (a flush every 256 chunks) and a kill between them leaves some files
updated and some not. Every attempt after the first starts with all files changed (a sentence
appended to each text, bytes after each PDF's end), so there is always a full run's work to
interrupt, and the update path (delete old chunks, add new ones) is killed as well as the first ingest.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from index.store import ChromaStore

from .conftest import LA_DUTIES, NHS_PDFS, ROOT, SEEDS, make_settings

pytestmark = [pytest.mark.shared, pytest.mark.slow]

SEED = 20240606  # fixed, so the kill times are the same in every run of the suite
PLAN = ["anywhere", "write phase", "anywhere", "keyword phase", "write phase", "write phase"]
SMALL_FILES = 250
FILES = [*sorted(SEEDS.iterdir()), NHS_PDFS / "Prescribing-of-Insulin-Needles.pdf",
         NHS_PDFS / "Blood-glucose-and-ketone-self-monitoring-guidance.pdf",
         *random.Random(SEED).sample(sorted(LA_DUTIES.glob("*.md")), SMALL_FILES)]
QUESTIONS = [
    "Which department did the Breaking Barriers review recommend creating?",
    "How many hospital beds did the Government want to free up for winter?",
    "What length of insulin pen needle is recommended?",
    "How often should people with type 1 diabetes check their blood glucose?",
    "What powers does a local authority have over abandoned vehicles?",
]
WRITE_MARK = "crash-test: first batch write begins"
KEYWORD_MARK = "crash-test: keyword index update begins"

# The real CLI, announcing the first store write of a flush and the start of the keyword index's
# update after the run (nothing else changes).
LAUNCHER = f"""
import sys
from assistant.cli import main
from index.keywords import KeywordIndex
from index.store import ChromaStore
def announcing(method, mark):
    def announced(*args, **kwargs):
        print(mark, file=sys.stderr, flush=True)
        return method(*args, **kwargs)
    return announced
ChromaStore.forget_files = announcing(ChromaStore.forget_files, {WRITE_MARK!r})
KeywordIndex.apply = announcing(KeywordIndex.apply, {KEYWORD_MARK!r})
KeywordIndex.rebuild = announcing(KeywordIndex.rebuild, {KEYWORD_MARK!r})
sys.exit(main(sys.argv[1:]))
"""

# Run in a fresh interpreter: this process must not hold a Chroma client open on a store that
# the killed processes write to.
CHECK = """
import json, sys, tempfile
from pathlib import Path
from index.keywords import KeywordIndex, catch_up
from index.settings import Settings
from index.store import ChromaStore
settings = Settings(store=Path(sys.argv[1]))
store = ChromaStore(settings)
live = KeywordIndex(settings.keyword_path)
entries = live.contents(live.searcher())  # opens whatever a kill left, as the app would
with tempfile.TemporaryDirectory() as folder:
    fresh = KeywordIndex(Path(folder))
    catch_up(fresh, store)
    same = entries == fresh.contents(fresh.searcher())
keywords = {"keywords_level": live.generation == store.generation(), "keywords_as_fresh": same}
manifest = store.manifest()
stored = [c.id for c in store.all_chunks(include_text=False)]
owned = [cid for r in manifest.values() for cid in r.chunk_ids]
print(json.dumps({"hashes": {s: r.hash for s, r in manifest.items()},
                  "records": len(manifest), "chunks": len(stored), "count": store.count(),
                  "duplicates": len(stored) - len(set(stored)),
                  "missing": len(set(owned) - set(stored)), "orphans": len(set(stored) - set(owned))} | keywords))
"""


def _cli_ingest(folder: Path, store: Path, announce: bool = False) -> subprocess.Popen:
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(store))
    entry = ["-c", LAUNCHER] if announce else ["-m", "assistant.cli"]
    return subprocess.Popen([sys.executable, *entry, "ingest", str(folder), "--json"],
                            stdout=subprocess.DEVNULL if announce else subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)


def _run_to_end(folder: Path, store: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    process = _cli_ingest(folder, store)
    out, err = process.communicate(timeout=900)
    assert process.returncode == 0, err
    return json.loads(out), time.perf_counter() - started


def _kill_anywhere(process: subprocess.Popen, delay: float) -> str:
    try:
        process.communicate(timeout=delay)
        return f"finished first (exit {process.returncode})"
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return f"SIGKILL {delay:.1f} s after start"


def _kill_in_write_phase(process: subprocess.Popen, delay: float, mark: str = WRITE_MARK) -> str:
    writing = threading.Event()

    def watch():
        for line in process.stderr:
            if mark in line:
                writing.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    try:
        while not writing.wait(0.01):
            if process.poll() is not None:
                return f"finished first (exit {process.returncode})"
        time.sleep(delay)
        if process.poll() is not None:
            return f"finished first (exit {process.returncode})"
        process.send_signal(signal.SIGKILL)
        return f"SIGKILL {delay:.2f} s after the first write began ({time.perf_counter() - started:.1f} s after start)"
    finally:
        process.wait()
        watcher.join(timeout=30)


def _check(store: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHECK, str(store)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _dirty(folder: Path, originals: dict[str, bytes], revision: int) -> None:
    for name, data in originals.items():
        extra = (f"\n% revision {revision}\n" if name.endswith(".pdf")
                 else f"\n\nRevision {revision} of this article was filed for the archive.\n")
        (folder / name).write_bytes(data + extra.encode())


def _answers(settings, embedder) -> list[tuple]:
    assistant = Assistant(settings=settings, embedder=embedder)
    shapes = []
    for question in QUESTIONS:
        answer = assistant.ask(question)
        shapes.append((answer.refused, answer.answer, [(Path(c.source).name, c.page, c.quote, c.verified)
                                                       for c in answer.citations]))
    return shapes


def test_ingest_killed_at_random_points_ends_consistent_and_answers_the_same(tmp_path, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    for path in FILES:
        shutil.copy2(path, folder / path.name)
    originals = {p.name: p.read_bytes() for p in folder.iterdir()}

    # The reference: a clean, uninterrupted ingest of the same folder (same paths, so same chunk ids).
    reference = tmp_path / "reference"
    summary, full_run = _run_to_end(folder, reference)
    assert summary["added"] == len(FILES) and not summary["failed"]
    print(f"\nclean ingest: {summary['total_chunks']} chunks in {full_run:.1f} s")

    store = tmp_path / "killed"
    rng = random.Random(SEED)
    delays = [rng.uniform(2.0, full_run) if kind == "anywhere" else rng.uniform(0.0, 1.0) for kind in PLAN]
    delays = [d / 10 if kind == "keyword phase" else d for d, kind in zip(delays, PLAN)]  # it takes ~0.3 s
    killed, partial_states = 0, 0
    for attempt, (kind, delay) in enumerate(zip(PLAN, delays)):
        if attempt:
            _dirty(folder, originals, attempt)
        process = _cli_ingest(folder, store, announce=kind.endswith("phase"))
        if kind == "anywhere":
            outcome = _kill_anywhere(process, delay)
        else:
            outcome = _kill_in_write_phase(process, delay, KEYWORD_MARK if kind == "keyword phase" else WRITE_MARK)
        killed += outcome.startswith("SIGKILL")
        state = _check(store)
        current = _hashes(folder)
        new = sum(1 for source, digest in state.pop("hashes").items() if current.get(source) == digest)
        # Some files done and some not, or records forgotten, or chunks no record owns yet.
        partial = 0 < new < len(FILES) or state["records"] < len(FILES) or state["orphans"] > 0
        partial_states += partial and outcome.startswith("SIGKILL")
        print(f"attempt {attempt + 1} ({kind}): {outcome}; {new}/{len(FILES)} files at this revision; "
              f"store: {state}")
        # A record is written only after its chunks: no record ever points at a missing chunk.
        assert state["missing"] == 0 and state["duplicates"] == 0, state
    assert killed >= 4, "the attempts must be killed mid-run for this test to mean anything"
    assert partial_states >= 1, "no kill left the store between two writes"

    for name, data in originals.items():
        (folder / name).write_bytes(data)
    summary, seconds = _run_to_end(folder, store)
    print(f"final run: {summary} in {seconds:.1f} s")
    assert not summary["failed"]

    state = _check(store)
    assert state.pop("hashes") == _hashes(folder)
    # The keyword index, killed mid-update on the way, was brought level by the final run and holds
    # exactly what a fresh build of the same store holds.
    assert state == {"records": len(FILES), "chunks": state["count"], "count": state["count"],
                     "duplicates": 0, "missing": 0, "orphans": 0,
                     "keywords_level": True, "keywords_as_fresh": True}, state

    # The same index as the clean ingest: files, chunk ids, texts and vectors.
    ours, theirs = ChromaStore(make_settings(store)), ChromaStore(make_settings(reference))
    mine, ref = ours.manifest(), theirs.manifest()
    assert set(mine) == set(ref) == {str(folder / p.name) for p in FILES}  # nothing missing
    for source in ref:
        assert sorted(mine[source].chunk_ids) == sorted(ref[source].chunk_ids), source
        assert mine[source].hash == ref[source].hash
    ids = sorted(c.id for c in theirs.all_chunks(include_text=False))
    assert sorted(c.id for c in ours.all_chunks(include_text=False)) == ids
    assert [c.text for c in ours.get_chunks(ids)] == [c.text for c in theirs.get_chunks(ids)]
    assert np.allclose(ours.all_vectors(ids), theirs.all_vectors(ids), atol=1e-4)

    assert _answers(make_settings(store), embedder) == _answers(make_settings(reference), embedder)
