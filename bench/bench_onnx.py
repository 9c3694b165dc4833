"""Embedding backends: torch fp32 against ONNX Runtime int8, on the same chunk texts, same run.

    python bench/bench_onnx.py [--rounds 2] [--texts 300] [--store-dir DIR]

Speed: chunks/s for the chunks of the seed articles + NHS documents (ingest's own chunking and
embedding text), and single-query latency. The backends take turns on every slice of 64 chunks
and on every query, so the ratio compares like with like on a noisy machine. The fused ONNX fp32
model (the file the int8 one is quantised from) is timed too, for information.

Quality: the same documents indexed once per backend (stores kept in --store-dir and reused),
then hit@1, hit@5 and MRR@10 on the answerable questions of eval/dev.jsonl for dense-only and
hybrid retrieval; and the cosine between the two backends' vectors for the same chunks.

The ONNX backend qualifies as the default only if it is faster and within ~1 point (0.01) of torch
on hit@5 and MRR for both modes. This script reports; it does not change settings.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import _setup  # noqa: E402,F401  (offline, quiet, project on sys.path)

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_query import BENCH_DIR, DEV_SET, NHS, ROOT, SEEDS, build, merged, quality, summarise  # noqa: E402

TUNING_SETS = (DEV_SET, ROOT / "eval" / "holdout.jsonl")

QUALITY_MARGIN = 0.01


def chunk_texts(limit: int | None) -> list[str]:
    from index.chunks import embedding_text
    from ingest.chunking import chunk_document
    from ingest.clean import clean_document
    from ingest.loaders import load
    from ingest.pipeline import _expand
    from index.settings import Settings

    settings = Settings()
    files, _, _ = _expand([SEEDS, NHS], "general", False)
    texts = []
    for path in files:
        doc = clean_document(load(path, settings.max_file_mb))
        texts.extend(embedding_text(c.title, c.text) for c in chunk_document(doc, settings.chunk_size, settings.chunk_overlap))
    if limit and len(texts) > limit:  # an even spread over the documents, not just the first ones
        step = len(texts) / limit
        texts = [texts[int(i * step)] for i in range(limit)]
    return texts


def time_encoders(encoders: dict, texts: list[str], queries: list[str], rounds: int) -> dict:
    """Backends take turns on each slice of 64 texts (and on each query), the order rotating, so
    that load from other jobs falls on all of them alike; per-round rates are printed."""
    slices = [texts[i:i + 64] for i in range(0, len(texts), 64)]
    names = list(encoders)
    rates = {name: [] for name in names}
    query_ms = {name: [] for name in names}
    turn = 0
    for number in range(rounds):
        seconds = dict.fromkeys(names, 0.0)
        for part in slices:
            turn += 1
            for name in names[turn % len(names):] + names[:turn % len(names)]:
                started = time.perf_counter()
                encoders[name](part)
                seconds[name] += time.perf_counter() - started
        for name in names:
            rates[name].append(len(texts) / seconds[name])
        for q in queries:
            turn += 1
            for name in names[turn % len(names):] + names[:turn % len(names)]:
                started = time.perf_counter()
                encoders[name]([q])
                query_ms[name].append((time.perf_counter() - started) * 1000)
        print(f"  round {number + 1}: " + ", ".join(f"{n} {rates[n][-1]:.1f} chunks/s" for n in names), flush=True)
    return {name: {"chunks_per_s": statistics.median(rates[name]),
                   "query_ms_p50": statistics.median(query_ms[name])} for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--texts", type=int, default=300, help="chunks timed per backend and round")
    parser.add_argument("--store-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args(argv)
    for folder in (SEEDS, NHS):
        if not folder.is_dir():
            print(f"data folder not found: {folder}", file=sys.stderr)
            return 2

    import numpy as np

    from assistant import Assistant
    from evaluation import load_questions
    from index.embedding import Embedder
    from index.onnx_embedding import OnnxMiniLM
    from index.settings import Settings

    model = Settings().embedding_model
    torch_embedder = Embedder(model, "torch")
    onnx_embedder = Embedder(model, "onnx")
    started = time.perf_counter()
    onnx_embedder.warm_up()  # the first time ever, this exports and quantises (~1 min)
    print(f"onnx int8 model ready in {time.perf_counter() - started:.1f} s: {onnx_embedder._model.onnx_path}")
    torch_embedder.warm_up()
    onnx_fp32 = OnnxMiniLM(model, precision="fp32")
    encoders = {"torch fp32": torch_embedder.encode, "onnx int8": onnx_embedder.encode,
                "onnx fp32 (fused)": lambda texts: onnx_fp32.encode(texts, batch_size=64)}
    texts = chunk_texts(args.texts)
    queries = [q.question for q in load_questions(DEV_SET)][:30]
    for encode in encoders.values():  # warm every backend before timing any
        encode(texts[:16])

    print(f"\nspeed: {len(texts)} chunks of the seed articles + NHS documents, {len(queries)} single queries, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    speed = time_encoders(encoders, texts, queries, args.rounds)
    base = speed["torch fp32"]
    print(f"  {'backend':20} {'chunks/s':>9} {'x torch':>8} {'query p50 ms':>13} {'x torch':>8}")
    for name, s in speed.items():
        print(f"  {name:20} {s['chunks_per_s']:9.1f} {s['chunks_per_s'] / base['chunks_per_s']:8.2f} "
              f"{s['query_ms_p50']:13.1f} {base['query_ms_p50'] / s['query_ms_p50']:8.2f}")

    reference = torch_embedder.encode(texts)
    for name in ("onnx int8", "onnx fp32 (fused)"):
        cos = np.sum(encoders[name](texts) * reference, axis=1)
        print(f"  cosine {name} vs torch over the same chunks: mean {cos.mean():.4f}, min {cos.min():.4f}")

    faster = speed["onnx int8"]["chunks_per_s"] > base["chunks_per_s"]
    if args.skip_quality:
        return 0
    scores = {}
    for name, embedder, folder in (("torch fp32", torch_embedder, "small"),
                                   ("onnx int8", onnx_embedder, "small-onnx")):
        helper = Assistant(settings=build(args.store_dir / folder, [SEEDS, NHS], embedder), embedder=embedder)
        helper.warm_up()
        per_set = [quality(helper, path) for path in TUNING_SETS]
        scores[name] = summarise(merged(per_set))
    n = int(scores["torch fp32"]["hybrid"]["n"])
    print(f"\nretrieval quality, seeds + NHS documents, {n} answerable questions of eval/dev + holdout")
    print(f"  {'backend':12} {'mode':7} {'hit@1':>7} {'hit@5':>7} {'MRR@10':>7}")
    for name, by_mode in scores.items():
        for mode in ("dense", "hybrid"):
            s = by_mode[mode]
            print(f"  {name:12} {mode:7} {s['hit@1']:7.3f} {s['hit@5']:7.3f} {s['mrr@10']:7.3f}")
    close = all(scores["torch fp32"][mode][metric] - scores["onnx int8"][mode][metric] <= QUALITY_MARGIN
                for mode in ("dense", "hybrid") for metric in ("hit@5", "mrr@10"))
    print(f"\nonnx int8 faster than torch: {'yes' if faster else 'no'} "
          f"({speed['onnx int8']['chunks_per_s'] / base['chunks_per_s']:.2f}x chunks/s); "
          f"quality within {QUALITY_MARGIN:.2f} of torch on hit@5 and MRR: {'yes' if close else 'no'}")
    print("=> onnx int8 " + ("qualifies as the default backend" if faster and close
                             else "does not qualify as the default backend"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
