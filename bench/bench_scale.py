"""How the serving process grows with the library: synthetic stores of 10k, 100k and 1M chunks,
built (and cached) through the project's own ChromaStore, measured with today's design and, at the
sizes it can hold, with the design before issue 13 (bench/_legacy.py), in the same run.

Chunks are la-duties sentences recombined (3-6 a chunk, 40 chunks a file, dates spread over ten
years) with random unit vectors: the costs measured here do not depend on what the vectors mean.
Each measurement runs in a fresh process, so its RSS is that of a serving process that has warmed
up, searched, asked, ingested one file and searched again.

    python bench/bench_scale.py                       # 10k and 100k, old design at both
    python bench/bench_scale.py --sizes 10000 100000 1000000 --old-sizes 10000 100000
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _setup import ROOT, SHARED

LA_DUTIES = SHARED / "datasets" / "la-duties"
BENCH_DIR = Path(os.environ.get("POLICY_ASSISTANT_BENCH_DIR", "/tmp/policy-assistant-bench")) / "scale"
CHUNKS_PER_FILE = 40
BATCH_FILES = 50  # files written per store call (2,000 chunks: Chroma's batch)
TARGETS_1M = {"warm_up_s": 3.0, "first_search_after_ingest_s": 1.0, "search_p50_ms": 50.0,
              "filtered_p50_ms": 50.0, "half_library_p50_ms": 50.0, "ask_p50_ms": 150.0, "rss_mb": 3072.0, "max_wait_during_ingest_s": 1.0}


def la_duty_sentences() -> list[str]:
    out = []
    for path in sorted(LA_DUTIES.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        out.extend(s.strip() + "." for s in body.replace("\n", " ").split(". ") if len(s.split()) >= 5)
    return out


def settings_for(folder: Path):
    from index.settings import Settings

    return Settings(store=folder)


# --- building ----------------------------------------------------------------------------------------

def build(size: int) -> Path:
    """The store of ``size`` synthetic chunks (reused when a complete one is cached)."""
    import numpy as np

    from index.chunks import Chunk
    from index.store import ChromaStore, FileRecord

    folder = BENCH_DIR / f"store-{size}"
    done = folder / "complete.json"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    settings = settings_for(folder)
    store = ChromaStore(settings)
    from index.embedding import Embedder

    store.ensure_model(Embedder.from_settings(settings).name)  # the model name only: nothing is embedded
    pool = la_duty_sentences()
    rng = random.Random(size)
    vectors = np.random.default_rng(size)
    started = time.perf_counter()
    files = size // CHUNKS_PER_FILE
    for first in range(0, files, BATCH_FILES):
        chunks, records = [], []
        for number in range(first, min(first + BATCH_FILES, files)):
            source = f"/library/synthetic/duty-{number:06d}.md"
            date = f"{2015 + number % 10}-{1 + number % 12:02d}-{1 + number % 28:02d}"
            title = f"Synthetic council duty {number}"
            ids = []
            for part in range(CHUNKS_PER_FILE):
                text = " ".join(rng.choice(pool) for _ in range(rng.randint(3, 6)))
                chunk = Chunk(id=f"syn-{number:06d}-{part:02d}", source=source, title=title, page=None,
                              start=0, end=len(text), text=text, date=date, doc_type="md")
                chunks.append(chunk)
                ids.append(chunk.id)
            records.append(FileRecord(source=source, hash=f"synthetic-{number}", chunk_ids=ids, title=title,
                                      date=date, doc_type="md", pages=1))
        matrix = vectors.standard_normal((len(chunks), 384)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        store.begin_change([r.source for r in records])
        store.add_chunks(chunks, matrix)
        store.record_files(records)
        store.bump_generation()
        if (first // BATCH_FILES) % 25 == 0:
            print(f"  building {size:,}: {min(first + BATCH_FILES, files) * CHUNKS_PER_FILE:,} chunks, "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    done.write_text(json.dumps({"chunks": files * CHUNKS_PER_FILE, "build_s": seconds}))
    return folder


def build_keywords(folder: Path) -> float:
    """The keyword index built once from the store, as a new replica does (progress on stderr)."""
    from index.keywords import KeywordIndex, catch_up
    from index.store import ChromaStore

    settings = settings_for(folder)
    keywords = KeywordIndex(settings.keyword_path)
    store = ChromaStore(settings)
    if keywords.generation == store.generation():
        return 0.0
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 100_000 < 5000 or done == total:
            print(f"  keyword index: {done:,} / {total:,} chunks", file=sys.stderr, flush=True)

    catch_up(keywords, store, progress, wait=60)
    return time.perf_counter() - started


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


# --- measuring (in a fresh process) ---------------------------------------------------------------------

def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def queries(n: int) -> list[str]:
    rng = random.Random(7)
    titles = [p.stem.replace("-", " ") for p in sorted(LA_DUTIES.glob("*.md"))]
    return [f"What must a local authority do about {t}?" for t in rng.sample(titles, n)]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def p50_p95(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[int(0.95 * (len(values) - 1))]


def measure(folder: Path, design: str, n_queries: int) -> dict:
    import ingest
    from assistant import Assistant

    settings = settings_for(folder)
    started = time.perf_counter()
    assistant = Assistant(settings=settings)
    if design == "old":
        from _legacy import use_legacy_searcher

        use_legacy_searcher(assistant)
    assistant.warm_up()
    out = {"warm_up_s": time.perf_counter() - started, "rss_warm_mb": rss_mb()}
    qs = queries(n_queries)
    for q in qs[:5]:
        assistant.search(q)  # first queries load Chroma's HNSW index from disk
    search = timed(assistant.search, qs)
    out["search_p50_ms"], out["search_p95_ms"] = p50_p95(search)
    # A 1% document filter (one file in a hundred) and a one-year date filter.
    files = sorted({f"/library/synthetic/duty-{n:06d}.md" for n in range(0, assistant.store.count() // CHUNKS_PER_FILE, 100)})
    by_source = timed(lambda q: assistant.search(q, sources=files), qs[: n_queries // 2])
    by_year = timed(lambda q: assistant.search(q, date_from="2019", date_to="2019"), qs[n_queries // 2:])
    out["filtered_p50_ms"], out["filtered_p95_ms"] = p50_p95(by_source + by_year)
    out["source_filter_p50_ms"], out["year_filter_p50_ms"] = p50_p95(by_source)[0], p50_p95(by_year)[0]
    if design == "new":
        # A user who may read half the libraries: every search filtered to half the files
        # (access/policy.py; Assistant.readable is what the access rules would give).
        half = frozenset(sorted(assistant.catalogue.facts())[::2])
        everyone = assistant.readable
        assistant.readable = lambda user=None: half
        out["half_library_p50_ms"] = p50_p95(timed(assistant.search, qs[: n_queries // 2]))[0]
        assistant.readable = everyone
    ask = timed(assistant.ask, qs[: max(10, n_queries // 2)])
    out["ask_p50_ms"], out["ask_p95_ms"] = p50_p95(ask)

    # One file added while serving (the maintainer page runs ingest in the serving process): first
    # with questions asked all the while (the longest any of them waited), then alone, timing the
    # first question after it, which must find the new file.
    def new_file(name: str) -> Path:
        path = folder / "incoming" / f"{name}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"---\ntitle: Winter gritting of footways, {name}\n---\n\nA parish council must keep "
                        f"a register of gritting bins and refill each one before {name} frost warnings.\n")
        return path.resolve()

    waits: list[float] = []
    stop = threading.Event()

    def keep_asking():
        while not stop.is_set():
            waits.extend(timed(assistant.search, [qs[len(waits) % len(qs)]]))

    asker = threading.Thread(target=keep_asking)
    asker.start()
    during = new_file(f"{design}-during")
    ingest.run([during], settings, embedder=assistant.embedder, store=assistant.store)
    time.sleep(1.5)  # questions go on after it, while the index takes the change in
    stop.set()
    asker.join()
    out["max_wait_during_ingest_s"] = max(waits, default=0.0) / 1000
    ingest.remove([str(during)], settings, store=assistant.store)
    assistant.search(qs[0])

    alone = new_file(f"{design}-alone")
    started = time.perf_counter()
    ingest.run([alone], settings, embedder=assistant.embedder, store=assistant.store)
    out["one_file_ingest_s"] = time.perf_counter() - started
    started = time.perf_counter()
    hits = assistant.search(f"register of gritting bins refilled before {design}-alone frost warnings", 3)
    out["first_search_after_ingest_s"] = time.perf_counter() - started
    out["new_file_found"] = any(h.source == str(alone) for h in hits)
    ingest.remove([str(alone)], settings, store=assistant.store)
    out["rss_end_mb"] = rss_mb()
    out["rss_anon_end_mb"], out["rss_file_end_mb"] = rss_mb("RssAnon"), rss_mb("RssFile")
    out["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measured(folder: Path, design: str, n_queries: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--measure", str(folder), "--design", design,
                           "--queries", str(n_queries)], capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


COLUMNS = [("build_s", "build s", "{:.0f}"), ("disk_mb", "disk MB", "{:,.0f}"),
           ("keywords_s", "keyword build s", "{:.1f}"), ("warm_up_s", "warm-up s", "{:.2f}"),
           ("rss_peak_mb", "RSS MB", "{:,.0f}"), ("search_p50_ms", "search p50", "{:.1f}"),
           ("search_p95_ms", "p95", "{:.1f}"), ("filtered_p50_ms", "filtered p50", "{:.1f}"),
           ("source_filter_p50_ms", "1% files p50", "{:.1f}"), ("year_filter_p50_ms", "1 year p50", "{:.1f}"),
           ("half_library_p50_ms", "half libraries p50", "{:.1f}"), ("ask_p50_ms", "ask p50", "{:.1f}"), ("one_file_ingest_s", "1-file ingest s", "{:.2f}"),
           ("first_search_after_ingest_s", "1st search after s", "{:.2f}"),
           ("max_wait_during_ingest_s", "max wait in ingest s", "{:.2f}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--old-sizes", type=int, nargs="*", default=[10_000, 100_000],
                        help="sizes also measured with the design before issue 13")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--design", default="new", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.design, args.queries)))
        return

    rows = []
    for size in args.sizes:
        folder = build(size)
        info = json.loads((folder / "complete.json").read_text())
        keywords_s = build_keywords(folder) or info.get("keywords_s", 0.0)
        info["keywords_s"] = keywords_s
        (folder / "complete.json").write_text(json.dumps(info))
        for design in ["new"] + (["old"] if size in args.old_sizes else []):
            row = {"chunks": size, "design": design, "build_s": info["build_s"], "disk_mb": disk_mb(folder),
                   "keywords_s": keywords_s if design == "new" else float("nan")}
            row |= measured(folder, design, args.queries)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)

    print(f"\n{'chunks':>9} {'design':<7} " + " ".join(f"{label:>{max(len(label), 8)}}" for _, label, _ in COLUMNS))
    for row in rows:
        cells = [fmt.format(row.get(key, float("nan"))).rjust(max(len(label), 8)) for key, label, fmt in COLUMNS]
        print(f"{row['chunks']:>9,} {row['design']:<7} " + " ".join(cells)
              + ("" if row["new_file_found"] else "  (new file NOT found)"))
    new = {r["chunks"]: r for r in rows if r["design"] == "new"}
    if 100_000 in new and 1_000_000 in new:
        print("\ncost at 1M / cost at 100k (10x the chunks):")
        for key, label, _ in COLUMNS[3:]:
            print(f"  {label:<22} {new[1_000_000][key] / max(new[100_000][key], 1e-9):.2f}x")
        print("targets at 1M:")
        for key, target in TARGETS_1M.items():
            value = new[1_000_000][key if key != "rss_mb" else "rss_peak_mb"]
            print(f"  {key:<28} {value:10.2f} (target <= {target:g}) {'PASS' if value <= target else 'MISS'}")


if __name__ == "__main__":
    main()
