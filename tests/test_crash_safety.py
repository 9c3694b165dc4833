"""Crash safety: `policy-assistant ingest` killed with SIGKILL at random points, then re-run.

The write order for each file (ingest/pipeline.py) is: forget its manifest record, delete its old
chunks, add the new ones, record it. So a kill anywhere leaves at worst a file with no record (the
next run re-ingests it) and chunks no record owns (the next run sweeps them). After every kill a
manifest record never points at a missing chunk; after the final run the store holds exactly what a
clean ingest of the same folder holds, and answers the same.

The folder is the seed articles, two NHS PDFs and 250 one-paragraph council-duty files. Embedding is
batched across files (a flush every 256 chunks), so it is the many small files that give a run two
write phases (four store calls a file) taking a large share of its time, and so a likely place for
a random kill to land. Every attempt after
the first starts with all files changed (a sentence appended to each text, bytes appended after each
PDF's end), so there is always a full run's work to interrupt, and the update path (delete old
chunks, add new ones) is killed as well as the first ingest.
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
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from ingest.store import ChromaStore

from .conftest import LA_DUTIES, NHS_PDFS, ROOT, SEEDS, make_settings

pytestmark = [pytest.mark.shared, pytest.mark.slow]

SEED = 20240606  # fixed, so the kill times are the same in every run of the suite
KILLS = 5
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

# Run in a fresh interpreter: this process must not hold a Chroma client open on a store that
# the killed processes write to.
CHECK = """
import json, sys
from pathlib import Path
from ingest.settings import Settings
from ingest.store import ChromaStore
store = ChromaStore(Settings(store=Path(sys.argv[1])))
manifest = store.manifest()
stored = [c.id for c in store.all_chunks(include_text=False)]
owned = [cid for r in manifest.values() for cid in r.chunk_ids]
print(json.dumps({"hashes": {s: r.hash for s, r in manifest.items()},
                  "records": len(manifest), "chunks": len(stored), "count": store.count(),
                  "duplicates": len(stored) - len(set(stored)),
                  "missing": len(set(owned) - set(stored)), "orphans": len(set(stored) - set(owned))}))
"""


def _cli_ingest(folder: Path, store: Path) -> subprocess.Popen:
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(store))
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(folder), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _run_to_end(folder: Path, store: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    process = _cli_ingest(folder, store)
    out, err = process.communicate(timeout=900)
    assert process.returncode == 0, err
    return json.loads(out), time.perf_counter() - started


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
    delays = [round(rng.uniform(2.0, full_run), 1) for _ in range(KILLS)]
    killed = mid_write = 0
    for attempt, delay in enumerate(delays):
        if attempt:
            _dirty(folder, originals, attempt)
        process = _cli_ingest(folder, store)
        try:
            process.wait(timeout=delay)
            outcome = f"finished first (exit {process.returncode})"
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed += 1
            outcome = "SIGKILL"
        process.communicate()
        state = _check(store)
        current = _hashes(folder)
        new = sum(1 for source, digest in state.pop("hashes").items() if current.get(source) == digest)
        # Killed between the first and the last file's writes: some files done, some not (yet).
        partial = 0 < new < len(FILES) or state["orphans"] > 0
        mid_write += partial and outcome == "SIGKILL"
        print(f"attempt {attempt + 1}: kill after {delay:5.1f} s -> {outcome}; "
              f"{new}/{len(FILES)} files at this revision; store: {state}")
        # A record is written only after its chunks: no record ever points at a missing chunk.
        assert state["missing"] == 0 and state["duplicates"] == 0, state
    assert killed >= 3, "most attempts must be killed mid-run for this test to mean anything"
    assert mid_write >= 1, "no kill landed in the write phase"

    for name, data in originals.items():
        (folder / name).write_bytes(data)
    summary, seconds = _run_to_end(folder, store)
    print(f"final run: {summary} in {seconds:.1f} s")
    assert not summary["failed"]

    state = _check(store)
    assert state.pop("hashes") == _hashes(folder)
    assert state == {"records": len(FILES), "chunks": state["count"], "count": state["count"],
                     "duplicates": 0, "missing": 0, "orphans": 0}, state

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
