"""Query benchmark (issue 3): latency of search and extractive ask, and retrieval quality.

    python bench/bench_query.py [--store DIR] [--small-store DIR] [--queries 100] [--rounds 1] [--sets dev,holdout,test]

Latency runs over a big index: the 3,150 council-duty markdown files + corpus/ + the NHS PDFs.
Building it takes minutes, so it is kept in --store (default /tmp/policy-assistant-bench/big) and
brought up to date incrementally on every run (an unchanged corpus costs well under a second);
the default folders are named after the embedding backend (big-onnx, small-onnx, big-torch, ...).
After warm-up, each query is timed through every stage in turn, so all stages see the same noise
from other jobs on the machine:

  embed    the query's embedding alone (Embedder.encode_query)
  chroma   plain Chroma: collection.query with the precomputed vector (n_results = candidates)
  search   Assistant.search(q, k=5), hybrid (embedding + Chroma + BM25 + fusion)
  ask      Assistant.ask(q) with the extractive answerer (retrieval, answer, citation checks); the
           sentence vectors of passages seen by earlier questions are cached, as in a running app
  ask_cold the same with that cache emptied first: every short-listed sentence is embedded

Targets on a 2-core machine: search p50 <= 50 ms, extractive ask p50 <= 150 ms.

Quality: hit@1, hit@5 and MRR@10 of the expected sources of the answerable questions of each
question set (eval/dev.jsonl: tuning, eval/holdout.jsonl: tuning, eval/test.jsonl: kept for the
final figures), for BM25 only, dense only and hybrid, on the big index and on the small one
(the seed articles + the NHS documents, --small-store). The hybrid must beat both: at least as
good on hit@1 and hit@5 and better on MRR than each. Other fusions are listed beside the default.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _setup import ROOT, SHARED  # noqa: E402,F401  (offline, quiet, project on sys.path)

SEEDS = SHARED / "seeds"
NHS = SHARED / "datasets" / "nhs-policy-pdfs"
LA_DUTIES = SHARED / "datasets" / "la-duties"
CORPUS = ROOT / "corpus"
DEV_SET = ROOT / "eval" / "dev.jsonl"
BENCH_DIR = Path(os.environ.get("POLICY_ASSISTANT_BENCH_DIR", "/tmp/policy-assistant-bench"))

SEARCH_TARGET_MS = 50.0
ASK_TARGET_MS = 150.0
MODES = ("bm25", "dense", "hybrid")


def build(store: Path, paths: list[Path], embedder):
    """Ingest paths into store (incremental: a store from an earlier run is only checked)."""
    import ingest
    from index.settings import Settings

    settings = Settings(store=store)
    started = time.perf_counter()
    report = ingest.run(paths, settings, embedder=embedder)
    seconds = time.perf_counter() - started
    print(f"index {store}: {report.total_chunks} chunks ({report.added} files added, "
          f"{report.unchanged} unchanged, {len(report.failed)} failed) in {seconds:.1f} s", flush=True)
    return settings


def latency_queries(n: int) -> list[str]:
    """Half the dev questions (about the NHS documents and seed articles), half questions about
    council duties made from the la-duties titles: a spread of both halves of the big index."""
    from evaluation import load_questions

    dev = [q.question for q in load_questions(DEV_SET)]
    duties = []
    for path in sorted(LA_DUTIES.glob("*.md"))[::37]:
        title = path.stem.replace("-", " ").strip()
        duties.append(f"What must a local authority do about {title}?")
    half = n // 2
    queries = dev[:half] + duties[: n - half]
    return (queries * (n // max(len(queries), 1) + 1))[:n]


def percentiles(values: list[float]) -> tuple[float, float]:
    from evaluation import percentile

    return percentile(values, 50), percentile(values, 95)


def time_queries(assistant, queries: list[str]) -> dict[str, list[float]]:
    store, embedder = assistant.store, assistant.embedder
    candidates = assistant.settings.candidates
    for q in queries[:5]:  # warm-up: model, keyword index, Chroma's HNSW pages, answerer caches
        assistant.search(q, k=5)
        assistant.ask(q)
    times: dict[str, list[float]] = {"embed": [], "chroma": [], "search": [], "ask": [], "ask_cold": []}
    sentence_vectors = assistant._answerer("extractive").sentence_vectors
    for q in queries:
        started = time.perf_counter()
        vector = embedder.encode_query(q)
        times["embed"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        store.query(vector, candidates)
        times["chroma"].append((time.perf_counter() - started) * 1000)
        embedder.forget_queries()  # each stage pays for the question's vector, as a new question does
        started = time.perf_counter()
        assistant.search(q, k=5)
        times["search"].append((time.perf_counter() - started) * 1000)
        embedder.forget_queries()
        started = time.perf_counter()
        answer = assistant.ask(q)
        times["ask"].append((time.perf_counter() - started) * 1000)
        if answer is None:
            raise SystemExit(f"ask returned nothing for {q!r}")
        embedder.forget_queries()
        sentence_vectors._cache.clear()  # as if no passage had been seen before
        started = time.perf_counter()
        assistant.ask(q)
        times["ask_cold"].append((time.perf_counter() - started) * 1000)
    return times


# Fusions compared with the default (adaptive score fusion): (label, fusion, fixed keyword share).
FUSIONS = (("hybrid, plain RRF k=60", "rrf", None), ("hybrid, score fusion, share 0.5", "score", 0.5),
           ("hybrid, score fusion, share 0.7", "score", 0.7))
QUESTION_SETS = (("dev", ROOT / "eval" / "dev.jsonl"), ("holdout", ROOT / "eval" / "holdout.jsonl"),
                 ("test", ROOT / "eval" / "test.jsonl"))


def quality(assistant, path: Path, k: int = 10) -> dict[str, dict[str, float]]:
    """hit@1, hit@5, MRR@10 per retrieval mode over the answerable questions of one set; the hybrid
    also with each of FUSIONS in place of the configured fusion."""
    from dataclasses import replace
    from evaluation import hit_at, load_questions, reciprocal_rank
    from assistant.followup import rewrite

    questions = [q for q in load_questions(path) if q.answerable and q.expected_sources]
    searcher = assistant.searcher
    configured = (searcher.fusion, searcher.scoring.keyword_share)
    runs = [(mode, mode, configured) for mode in MODES]
    runs += [(label, "hybrid", (fusion, (share, share) if share else configured[1])) for label, fusion, share in FUSIONS]
    out = {}
    for label, mode, (fusion, share) in runs:
        searcher.fusion, searcher.scoring = fusion, replace(searcher.scoring, keyword_share=share)
        rows = []
        try:
            for q in questions:
                query = rewrite(q.question, q.history) if q.history else q.question
                sources = [h.source for h in assistant.search(query, k=k, mode=mode)]
                rows.append((hit_at(sources, q.expected_sources, 1), hit_at(sources, q.expected_sources, 5),
                             reciprocal_rank(sources, q.expected_sources, 10)))
        finally:
            searcher.fusion, searcher.scoring = configured[0], replace(searcher.scoring, keyword_share=configured[1])
        out[label] = {"rows": rows}
    return out


def known_item(assistant, n: int = 300) -> dict[str, float]:
    """Known-item retrieval over the council duties: each question is a duty's title ("What must a
    local authority do about abandoned vehicles removal?"), the expected source that duty's file;
    the older versions in la-duties (files ending "-.md") share titles, so either counts."""
    from evaluation import hit_at, reciprocal_rank

    every = sorted(LA_DUTIES.glob("*.md"))
    files = every[:: max(1, len(every) // n)][:n]
    rows = []
    for path in files:
        title = path.stem.rstrip("-").replace("-", " ").strip()
        expected = [str(p.resolve()) for p in (path, path.with_name(path.stem.rstrip("-") + "-.md"),
                                               path.with_name(path.stem.rstrip("-") + ".md"))]
        sources = [h.source for h in assistant.search(f"What must a local authority do about {title}?", k=10)]
        rows.append((hit_at(sources, expected, 1), hit_at(sources, expected, 5), reciprocal_rank(sources, expected, 10)))
    return {name: sum(r[i] for r in rows) / len(rows) for i, name in enumerate(("hit@1", "hit@5", "mrr@10"))} | {"n": len(rows)}


def merged(per_set: list[dict]) -> dict[str, dict]:
    """quality() results of several question sets as one: the rows of every set, per retrieval."""
    return {label: {"rows": [row for scores in per_set for row in scores[label]["rows"]]} for label in per_set[0]}


def summarise(scores: dict[str, dict]) -> dict[str, dict[str, float]]:
    out = {}
    for label, value in scores.items():
        rows = value["rows"]
        out[label] = {name: sum(r[i] for r in rows) / len(rows) for i, name in enumerate(("hit@1", "hit@5", "mrr@10"))}
        out[label]["n"] = len(rows)
    out["hybrid"]["label"] = "hybrid (default: adaptive score fusion)"
    return out


def beats(scores: dict, label: str) -> bool:
    """At least as good on hit@1 and hit@5, and better on MRR, than each single retriever."""
    fused = scores[label]
    return all(fused["mrr@10"] > scores[m]["mrr@10"] and
               all(fused[x] >= scores[m][x] for x in ("hit@1", "hit@5")) for m in ("bm25", "dense"))


def print_quality(name: str, per_set: dict[str, dict]) -> bool:
    """One table per question set and one for all of them together; True when the default hybrid
    beats both single retrievers on all of them together."""
    union = merged(list(per_set.values()))
    verdict = False
    for set_name, raw in [*per_set.items(), ("all sets", union)]:
        scores = summarise(raw)
        print(f"\nretrieval quality, {name}, {set_name} ({int(scores['hybrid']['n'])} answerable questions)")
        print(f"  {'retrieval':42} {'hit@1':>7} {'hit@5':>7} {'MRR@10':>7}  beats both")
        for label, s in scores.items():
            mark = "" if label in ("bm25", "dense") else ("yes" if beats(scores, label) else "no")
            print(f"  {s.get('label', label):42} {s['hit@1']:7.3f} {s['hit@5']:7.3f} {s['mrr@10']:7.3f}  {mark}")
        verdict = beats(scores, "hybrid")
    print(f"  default hybrid beats BM25-only and dense-only on all sets together: {'PASS' if verdict else 'MISS'}")
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="big index (default: BENCH_DIR/big-<backend>)")
    parser.add_argument("--small-store", type=Path, help="small index (default: BENCH_DIR/small-<backend>)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="latency rounds over the queries")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--known-item", action="store_true",
                        help="only the known-item council-duty benchmark, today's search beside the design before issue 13")
    parser.add_argument("--sets", default=",".join(name for name, _ in QUESTION_SETS),
                        help="question sets for quality (default: all of them)")
    args = parser.parse_args(argv)
    for folder in (SEEDS, NHS, LA_DUTIES, CORPUS):
        if not folder.is_dir():
            print(f"data folder not found: {folder}", file=sys.stderr)
            return 2

    from assistant import Assistant
    from index.embedding import Embedder
    from index.settings import Settings

    defaults = Settings()
    embedder = Embedder(defaults.embedding_model, defaults.embedding_backend, defaults.embed_batch_size)
    embedder.warm_up()
    # An index answers only the backend it was built with: one folder per backend.
    args.store = args.store or BENCH_DIR / f"big-{embedder.backend}"
    args.small_store = args.small_store or BENCH_DIR / f"small-{embedder.backend}"
    big = Assistant(settings=build(args.store, [LA_DUTIES, CORPUS, NHS], embedder), embedder=embedder)
    started = time.perf_counter()
    big.warm_up()
    print(f"warm-up (keyword index over {big.searcher.size()} chunks): "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    if args.known_item:
        from _legacy import use_legacy_searcher

        today = known_item(big)
        use_legacy_searcher(big)
        big.warm_up()
        before = known_item(big)
        print(f"\nknown-item council duties ({today['n']} titles, big index, hybrid)")
        for label, row in (("before issue 13 (bm25s in memory)", before), ("today (Tantivy on disk)", today)):
            print(f"  {label:36} hit@1 {row['hit@1']:.3f}  hit@5 {row['hit@5']:.3f}  MRR@10 {row['mrr@10']:.3f}")
        return 0

    if not args.skip_latency:
        queries = latency_queries(args.queries)
        for number in range(1, args.rounds + 1):
            times = time_queries(big, queries)
            p = {stage: percentiles(values) for stage, values in times.items()}
            print(f"\nlatency round {number}, {len(queries)} queries, big index, {os.cpu_count()} CPUs, "
                  f"load average {os.getloadavg()[0]:.1f} (ms)")
            print(f"  {'stage':30} {'p50':>8} {'p95':>8}")
            labels = {"embed": "query embedding alone", "chroma": "plain Chroma query (vector given)",
                      "search": "Assistant.search (hybrid)", "ask": "Assistant.ask (extractive)",
                      "ask_cold": "  ask, no sentence vector cached"}
            for stage, (p50, p95) in p.items():
                print(f"  {labels[stage]:30} {p50:8.1f} {p95:8.1f}")
            base = p["embed"][0] + p["chroma"][0]
            print(f"  search p50 / (embedding + Chroma) p50 = {p['search'][0] / base:.2f}x;  "
                  f"ask p50 / search p50 = {p['ask'][0] / p['search'][0]:.2f}x")
            print(f"  search p50 {p['search'][0]:.1f} ms (target <= {SEARCH_TARGET_MS:.0f}) "
                  f"{'PASS' if p['search'][0] <= SEARCH_TARGET_MS else 'MISS'};  "
                  f"extractive ask p50 {p['ask'][0]:.1f} ms (target <= {ASK_TARGET_MS:.0f}) "
                  f"{'PASS' if p['ask'][0] <= ASK_TARGET_MS else 'MISS'}", flush=True)

    if not args.skip_quality:
        sets = [(name, path) for name, path in QUESTION_SETS if name in args.sets.split(",") and path.exists()]
        print_quality(f"big index ({big.searcher.size()} chunks)",
                      {name: quality(big, path) for name, path in sets})
        small = Assistant(settings=build(args.small_store, [SEEDS, NHS], embedder), embedder=embedder)
        small.warm_up()
        print_quality(f"small index: seeds + NHS documents ({small.searcher.size()} chunks)",
                      {name: quality(small, path) for name, path in sets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
