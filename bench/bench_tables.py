"""What reading PDF tables costs (issue 15): the NHS PDFs loaded three ways in the same run.

    python bench/bench_tables.py [--corpus DIR] [--rounds 3]

  text only     pypdf's text pass, no table pass: the loader before tables were read
  every page    pdfplumber's table pass on every text page (the loader of stop 24)
  ruled pages   pdfplumber only on pages whose drawn lines form a grid (ingest/ruled.py, now)

Each round loads every PDF once per way, in an order that rotates from round to round; the
summary is the median over rounds, with each way's ratio to "text only" from the same rounds.
The page text of "every page" and "ruled pages" must be identical (no table lost): the script
says so and exits 1 when it is not.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

from _setup import SHARED  # noqa: E402  (offline, quiet, project on sys.path)

DEFAULT_CORPUS = SHARED / "datasets" / "nhs-policy-pdfs"
WAYS = ("text only", "every page", "ruled pages")


def load_all(files: list[Path], way: str) -> tuple[float, int, int, str]:
    """Seconds to load every file, pages sent to pdfplumber, tables kept, a digest of the text."""
    from ingest import loaders, ruled

    sent = [0]
    real_table_pass, real_check = loaders._add_table_rows, ruled.PageDrawing.may_hold_table

    def counted_table_pass(path, pages):
        sent[0] += len(pages)
        return real_table_pass(path, pages) if way != "text only" else 0

    loaders._add_table_rows = counted_table_pass
    if way == "every page":
        ruled.PageDrawing.may_hold_table = lambda self: True
    digest, tables = hashlib.sha256(), 0
    try:
        started = time.perf_counter()
        for path in files:
            doc = loaders.load(path, 100)
            tables += int(doc.extra["tables"])
            for page in doc.pages:
                digest.update(page.text.encode())
        seconds = time.perf_counter() - started
    finally:
        loaders._add_table_rows, ruled.PageDrawing.may_hold_table = real_table_pass, real_check
    return seconds, (sent[0] if way != "text only" else 0), tables, digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    files = sorted(args.corpus.glob("*.pdf"))
    if not files:
        print(f"no PDFs in {args.corpus}", file=sys.stderr)
        return 2
    load_all(files[:1], "every page")  # imports and first-use costs out of the timings

    results: dict[str, list[tuple[float, int, int, str]]] = {way: [] for way in WAYS}
    for number in range(args.rounds):
        for way in WAYS[number % 3:] + WAYS[:number % 3]:
            results[way].append(load_all(files, way))
        print(f"round {number + 1}: " + ", ".join(f"{way} {results[way][-1][0]:.2f} s" for way in WAYS), flush=True)

    from pypdf import PdfReader

    pages = sum(len(PdfReader(str(path)).pages) for path in files)
    print(f"\n{len(files)} PDFs, {pages} pages, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"median of {args.rounds} rounds")
    baseline = statistics.median(r[0] for r in results["text only"])
    for way in WAYS:
        seconds = statistics.median(r[0] for r in results[way])
        _, sent, tables, _ = results[way][0]
        print(f"{way:12} {seconds:6.2f} s  {seconds / baseline:4.2f}x text only  "
              f"pages to pdfplumber {sent:4}  tables {tables}")
    table_cost = {way: statistics.median(r[0] for r in results[way]) - baseline for way in WAYS[1:]}
    print(f"table pass: every page {table_cost['every page']:.2f} s, ruled pages {table_cost['ruled pages']:.2f} s "
          f"({table_cost['ruled pages'] / table_cost['every page']:.2f}x)")
    same = results["every page"][0][3] == results["ruled pages"][0][3]
    print("page text of 'ruled pages' and 'every page':", "identical" if same else "DIFFERENT (a table was lost)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
