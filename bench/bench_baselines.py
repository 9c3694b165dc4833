"""Retrieval against baselines, in one run, on the same questions and the same chunks.

    python bench/bench_baselines.py [--store DIR] [--questions eval/dev.jsonl]

Compared, question by question in turn (so machine load hits them alike):
- ours: hybrid (dense + BM25, reciprocal-rank fusion) retrieval, and the whole ``Assistant.ask``
  (retrieval + extractive answer + citation check) for its latency;
- dense only and BM25 only: ``Assistant.search(mode="dense" | "bm25")`` on the same store;
- the plain LangChain recipe: ``langchain_chroma.Chroma.from_documents`` over the chunk texts read
  from our store, embedded with the same MiniLM model through a LangChain ``Embeddings`` wrapper,
  then ``similarity_search(q, k=4)``. It returns 4 passages, so its hit@5 is n/a: compare hit@4.

Every retriever gets the same query text: the question as the assistant rewrote it for search
(on the follow-up questions of the set, the history-aware rewrite; on the rest, the question).
Retrieval figures are on the answerable questions with expected sources. Not a timed test:
it prints figures and our ratio to the best baseline, measured in this run.

Without --store, a temporary store is built from ../shared/seeds and ../shared/datasets/nhs-policy-pdfs.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, SHARED  # noqa: E402,F401  (offline, quiet, project on sys.path)

from evaluation import hit_at, load_questions, percentile, reciprocal_rank  # noqa: E402

DOCUMENTS = [SHARED / "seeds", SHARED / "datasets" / "nhs-policy-pdfs"]
DEPTH = {"ours: hybrid + extractive": 10, "dense only": 10, "BM25 only": 10, "LangChain recipe (k=4)": 4}


def minilm_embeddings(embedder):
    """A LangChain Embeddings over our loaded MiniLM model: the recipe gets the very same vectors model."""
    from langchain_core.embeddings import Embeddings

    class MiniLMEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.encode(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.encode_query(text).tolist()

    return MiniLMEmbeddings()


def langchain_recipe(store, embedder, folder: str):
    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    chunks = store.all_chunks()
    docs = [Document(page_content=c.text, metadata={"source": c.metadata.get("source", "")}) for c in chunks]
    started = time.perf_counter()
    vectors = Chroma.from_documents(docs, embedding=minilm_embeddings(embedder), collection_name="bench_recipe",
                                    persist_directory=folder)
    print(f"LangChain recipe: {len(docs)} chunk texts from our store embedded and indexed in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return vectors


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - started) * 1000


def build_store(folder: Path, embedder):
    import ingest
    from index.settings import Settings

    missing = [str(p) for p in DOCUMENTS if not p.is_dir()]
    if missing:
        sys.exit(f"error: no --store given and the shared documents are missing: {', '.join(missing)}")
    settings = Settings(store=folder)
    print(f"Building a store of {', '.join(p.name for p in DOCUMENTS)} in {folder} ...", flush=True)
    report = ingest.run(DOCUMENTS, settings, embedder=embedder)
    print(f"  {report.total_chunks} chunks in {report.seconds:.0f} s", flush=True)
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="a store holding the seeds and the NHS documents")
    parser.add_argument("--questions", default=str(ROOT / "eval" / "dev.jsonl"))
    args = parser.parse_args(argv)
    from assistant.cli import _quiet_libraries

    _quiet_libraries()  # no model-loading progress bars in the figures

    from assistant import Assistant
    from index.embedding import Embedder
    from index.settings import Settings, default_model_path

    embedder = Embedder(default_model_path())
    embedder.warm_up()
    scratch = tempfile.TemporaryDirectory(prefix="bench-baselines-")
    settings = Settings(store=Path(args.store).resolve()) if args.store else \
        build_store(Path(scratch.name) / "store", embedder)
    assistant = Assistant(settings=settings, embedder=embedder)
    assistant.warm_up()
    questions = [q for q in load_questions(args.questions) if q.answerable and q.expected_sources]
    recipe = langchain_recipe(assistant.store, embedder, str(Path(scratch.name) / "recipe"))

    retrievers = {
        "ours: hybrid + extractive": lambda query: assistant.search(query, k=10, mode="hybrid"),
        "dense only": lambda query: assistant.search(query, k=10, mode="dense"),
        "BM25 only": lambda query: assistant.search(query, k=10, mode="bm25"),
        "LangChain recipe (k=4)": lambda query: recipe.similarity_search(query, k=4),
    }
    for retrieve in retrievers.values():  # first calls pay for lazy set-up, not for retrieval
        retrieve("warm up")
    assistant.ask("warm up question about funding")

    ranked: dict[str, list[list[str]]] = {name: [] for name in retrievers}
    latency: dict[str, list[float]] = {name: [] for name in retrievers}
    ask_latency: list[float] = []
    for q in questions:
        embedder.forget_queries()  # every timing pays for the question's vector, as a new question does
        answer, ms = timed(lambda: assistant.ask(q.question, history=q.history or None))
        ask_latency.append(ms)
        query = answer.search_query or q.question
        for name, retrieve in retrievers.items():
            embedder.forget_queries()
            found, ms = timed(lambda: retrieve(query))
            latency[name].append(ms)
            ranked[name].append([getattr(h, "source", None) or h.metadata["source"] for h in found])

    def mean(values):
        return sum(values) / len(values)

    table = {}
    for name in retrievers:
        runs = list(zip(ranked[name], questions))
        depth = DEPTH[name]
        table[name] = {
            "hit@1": mean([hit_at(s, q.expected_sources, 1) for s, q in runs]),
            "hit@4": mean([hit_at(s, q.expected_sources, 4) for s, q in runs]),
            "hit@5": mean([hit_at(s, q.expected_sources, 5) for s, q in runs]) if depth >= 5 else None,
            "MRR": mean([reciprocal_rank(s, q.expected_sources, depth) for s, q in runs]),
            "p50 ms": percentile(latency[name], 50), "p95 ms": percentile(latency[name], 95)}

    print(f"\n{len(questions)} answerable questions from {args.questions}, {assistant.store.count()} chunks; "
          f"MRR is MRR@10, MRR@4 for the k=4 recipe; latency is retrieval only (query embedding included).\n")
    columns = ["hit@1", "hit@4", "hit@5", "MRR", "p50 ms", "p95 ms"]
    print(f"{'':28}" + "".join(f"{c:>9}" for c in columns))
    for name, row in table.items():
        print(f"{name:28}" + "".join(f"{_fmt(row[c], c):>9}" for c in columns))
    print(f"{'ours, whole ask()':28}" + " " * 36 +
          f"{_fmt(percentile(ask_latency, 50), 'ms'):>9}{_fmt(percentile(ask_latency, 95), 'ms'):>9}")

    ours, baselines = table["ours: hybrid + extractive"], [v for k, v in table.items() if not k.startswith("ours")]
    print("\nours / best baseline (quality: above 1 is better; latency: below 1 is faster)")
    for column in columns:
        values = [b[column] for b in baselines if b[column] is not None]
        if not values or ours[column] is None:
            continue
        best = min(values) if column.endswith("ms") else max(values)
        ratio = ours[column] / best if best else float("inf")
        who = [n for n, b in table.items() if b[column] == best and not n.startswith("ours")][0]
        print(f"  {column:7} {ratio:6.3f}   (best baseline: {who}, {_fmt(best, column)})")
    scratch.cleanup()
    return 0


def _fmt(value, column: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}" if column.endswith("ms") else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
