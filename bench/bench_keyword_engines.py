"""Two persistent keyword engines on the same synthetic library, side by side: SQLite FTS5
(standard library, ``bm25()``) and Tantivy (``tantivy`` on PyPI). Issue 13 asked to try both and
keep one; this is the measurement behind the choice recorded in bench/README.md.

Both index the project's own tokens (``assistant.english.tokens``: stemmed, stopwords dropped), so
the engines differ only in how they store and score them. The library is made of la-duties
sentences recombined into chunks (as bench_scale.py does); queries are council-duty questions.

    python bench/bench_keyword_engines.py --sizes 100000 1000000
"""
from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import time
from pathlib import Path

from _setup import SHARED  # noqa: F401  (sets up the path)

from assistant.english import tokens

LA_DUTIES = SHARED / "datasets" / "la-duties"


def sentences() -> list[list[str]]:
    """The la-duties sentences, tokenized once (tokenizing a million chunks afresh would take longer
    than indexing them)."""
    out = []
    for path in sorted(LA_DUTIES.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        for sentence in body.replace("\n", " ").split(". "):
            words = tokens(sentence)
            if len(words) >= 4:
                out.append(words)
    return out


def synthetic(n: int, seed: int = 13):
    pool = sentences()
    rng = random.Random(seed)
    for i in range(n):
        words = [w for _ in range(rng.randint(3, 6)) for w in rng.choice(pool)]
        yield i, f"doc-{i // 40:06d}.md", 20000101 + (i % 9000), words


def queries(n: int = 100, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    titles = [p.stem.replace("-", " ") for p in sorted(LA_DUTIES.glob("*.md"))]
    return [tokens(f"What must a local authority do about {t}?") for t in rng.sample(titles, n)]


def _fts_word(word: str) -> str:
    # FTS5's ascii tokenizer splits at ASCII punctuation; the project's tokens keep "." "%" "'"
    # inside ("e.g", "10%"), so those are mapped to characters it treats as word characters.
    return word.replace(".", "·").replace("%", "‰").replace("'", "’").replace("$", "＄")


class Fts5:
    name = "SQLite FTS5"

    def __init__(self, folder: Path):
        self.db = sqlite3.connect(folder / "keywords.sqlite3")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5(words, source UNINDEXED, "
                        "date UNINDEXED, tokenize='ascii', detail=column)")

    def add(self, rows) -> None:
        self.db.executemany("INSERT INTO chunks(rowid, words, source, date) VALUES (?, ?, ?, ?)",
                            ((i, " ".join(map(_fts_word, w)), s, d) for i, s, d, w in rows))
        self.db.commit()

    def search(self, words: list[str], k: int = 30) -> list[int]:
        match = " OR ".join(f'"{_fts_word(w)}"' for w in dict.fromkeys(words))
        return [r[0] for r in self.db.execute(
            "SELECT rowid FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks) LIMIT ?", (match, k))]


class Tantivy:
    name = "Tantivy"

    def __init__(self, folder: Path):
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("row", stored=True, indexed=True, fast=True)
        builder.add_text_field("words", tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field("source", tokenizer_name="raw")
        builder.add_integer_field("date", indexed=True, fast=True)
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=str(folder))

    def add(self, rows) -> None:
        writer = self.index.writer(heap_size=256_000_000, num_threads=2)
        for i, s, d, w in rows:
            writer.add_document(self.tantivy.Document(row=i, words=" ".join(w), source=s, date=d))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def search(self, words: list[str], k: int = 30) -> list[int]:
        Query, Occur = self.tantivy.Query, self.tantivy.Occur
        query = Query.boolean_query([(Occur.Should, Query.term_query(self.schema, "words", w))
                                     for w in dict.fromkeys(words)])
        searcher = self.index.searcher()
        return [searcher.doc(address)["row"][0] for _, address in searcher.search(query, k).hits]


def measure(engine_class, folder: Path, n: int, qs: list[list[str]]) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    engine = engine_class(folder)
    started = time.perf_counter()
    batch = []
    for row in synthetic(n):
        batch.append(row)
        if len(batch) == 50_000:
            engine.add(batch)
            batch = []
    if batch:
        engine.add(batch)
    build = time.perf_counter() - started
    disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    for q in qs[:10]:
        engine.search(q)  # warm the page cache
    times = []
    for q in qs:
        started = time.perf_counter()
        engine.search(q)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"build_s": build, "disk_mb": disk / 1e6, "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/policy-assistant-bench/engines"))
    args = parser.parse_args()
    qs = queries()
    print(f"{'engine':<12} {'chunks':>9} {'build s':>8} {'disk MB':>8} {'search p50 ms':>14} {'p95 ms':>7}")
    for n in args.sizes:
        for engine in (Fts5, Tantivy):
            row = measure(engine, args.dir / f"{engine.__name__}-{n}", n, qs)
            print(f"{engine.name:<12} {n:>9,} {row['build_s']:>8.1f} {row['disk_mb']:>8.0f} "
                  f"{row['p50_ms']:>14.1f} {row['p95_ms']:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
