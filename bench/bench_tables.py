"""What reading PDF tables costs (issue 15): the NHS PDFs loaded three ways in the same run.

    python bench/bench_tables.py [--corpus DIR] [--rounds 3] [--ingest 2]

  text only         pypdf's text pass, no table pass: the loader before tables were read
  pdfplumber        pdfplumber's find_tables and extract on the pages whose drawn lines form a
                    grid (the loader of stop 25; on every page it was stop 24's, 4.5x text only)
  pypdf cells       the cells from the same grid, filled with the text pypdf's own pass placed
                    in them (ingest/ruled.py, now): no second reading of the page

Each round loads every PDF once per way, in an order that rotates from round to round; the
summary is the median over rounds, with each way's ratio to "text only" from the same rounds.
Then the tables of "pypdf cells" are set beside pdfplumber's, cell by cell: how many tables each
finds and the share of cells whose text is the same (spaces aside). The script exits 1 when a
table pdfplumber finds is missing.

With --ingest N, it also times N rounds of the whole ingest of the corpus folder (load, clean,
chunk, embed, index) into a fresh store, with the table pass and without it, in alternating order:
what a maintainer waits for.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from _setup import SHARED  # noqa: E402  (offline, quiet, project on sys.path)

DEFAULT_CORPUS = SHARED / "datasets" / "nhs-policy-pdfs"
WAYS = ("text only", "pdfplumber", "pypdf cells")


def load_all(files: list[Path], way: str) -> tuple[float, dict]:
    """Seconds to load every file; each ruled page's table rows, by (file, page)."""
    import pdfplumber

    from ingest import loaders, office, ruled

    rows_by_page: dict[tuple[str, int], list] = {}
    opened: dict[str, object] = {}
    real_add, real_tables, real_text = loaders._add_table_rows, ruled.PageDrawing.tables, ruled.PageDrawing.visit_text

    def pdfplumber_rows(page, drawing):
        if not drawing.holds_table():  # as stop 25: pdfplumber only on the ruled pages
            return 0
        pdf = opened.get(page.source) or opened.setdefault(page.source, pdfplumber.open(page.source))
        tables = [[[" ".join((cell or "").split()) for cell in row] for row in table.extract()]
                  for table in pdf.pages[page.page - 1].find_tables()]
        tables = [rows for rows in tables if len(rows) >= 2 and max(len(row) for row in rows) >= 2]
        rows_by_page[(page.source, page.page)] = tables
        for rows in tables:
            page.text += "\n\n" + "\n\n".join(office.table_lines(rows))
        return len(tables)

    def pypdf_rows(page, drawing):
        tables = drawing.tables

        def recorded():  # the loader's own call, its result kept for the comparison
            found = tables()
            if found:
                rows_by_page[(page.source, page.page)] = found
            return found

        drawing.tables = recorded
        return real_add(page, drawing)

    if way == "text only":
        ruled.PageDrawing.tables = lambda self: []
        ruled.PageDrawing.visit_text = lambda self, *args: None
    else:
        loaders._add_table_rows = pdfplumber_rows if way == "pdfplumber" else pypdf_rows
    try:
        started = time.perf_counter()
        for path in files:
            loaders.load(path, 100)
        seconds = time.perf_counter() - started
    finally:
        loaders._add_table_rows, ruled.PageDrawing.tables, ruled.PageDrawing.visit_text = real_add, real_tables, real_text
        for pdf in opened.values():
            pdf.close()
    return seconds, rows_by_page


def timed_ingests(corpus: Path, rounds: int) -> dict[str, list[float]]:
    """Seconds of a whole ingest into a fresh store, with tables ("now") and without ("text only")."""
    import tempfile

    import ingest
    from index.embedding import Embedder
    from index.settings import Settings
    from ingest import ruled

    settings = Settings()
    embedder = Embedder(settings.embedding_model, settings.embedding_backend, settings.embed_batch_size)
    embedder.warm_up()
    real_tables = ruled.PageDrawing.tables
    seconds: dict[str, list[float]] = {"text only": [], "now": []}
    chunks: dict[str, int] = {}
    for number in range(rounds):
        for way in (("text only", "now") if number % 2 == 0 else ("now", "text only")):
            if way == "text only":
                ruled.PageDrawing.tables = lambda self: []
            try:
                with tempfile.TemporaryDirectory(prefix="bench-tables-") as tmp:
                    started = time.perf_counter()
                    report = ingest.run([corpus], Settings(store=Path(tmp) / "store"), embedder=embedder)
                    seconds[way].append(time.perf_counter() - started)
            finally:
                ruled.PageDrawing.tables = real_tables
            if report.failed:
                raise SystemExit(f"ingest failed for: {report.failed}")
            chunks[way] = report.chunks
        print(f"ingest round {number + 1}: " + ", ".join(f"{way} {seconds[way][-1]:.1f} s ({chunks[way]} chunks)"
                                                       for way in seconds), flush=True)
    return seconds


def compare(reference: dict, now: dict) -> tuple[int, int, int, int, int, list]:
    """Tables each way, tables missing from ``now``, cells compared and cells the same."""
    tables_ref = tables_now = missing = cells = same = 0
    examples = []
    for key, ref_tables in reference.items():
        now_tables = now.get(key, [])
        tables_ref += len(ref_tables)
        tables_now += len(now_tables)
        missing += max(0, len(ref_tables) - len(now_tables))
        for ref_rows, now_rows in zip(ref_tables, now_tables):
            for ref_row, now_row in zip(ref_rows, now_rows):
                for ref_cell, now_cell in zip(ref_row, now_row):
                    cells += 1
                    if ref_cell == now_cell:
                        same += 1
                    elif len(examples) < 8:
                        examples.append((Path(key[0]).name[:40], key[1], ref_cell[:60], now_cell[:60]))
    return tables_ref, tables_now, missing, cells, same, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ingest", type=int, default=0, help="rounds of the whole ingest, with and without tables")
    args = parser.parse_args(argv)
    files = sorted(args.corpus.glob("*.pdf"))
    if not files:
        print(f"no PDFs in {args.corpus}", file=sys.stderr)
        return 2
    for way in WAYS:
        load_all(files[:1], way)  # imports and first-use costs out of the timings

    results: dict[str, list[tuple[float, dict]]] = {way: [] for way in WAYS}
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
        print(f"{way:12} {seconds:6.2f} s  {seconds / baseline:4.2f}x text only  "
              f"table pass {seconds - baseline:5.2f} s  ruled pages {len(results[way][0][1])}")
    tables_ref, tables_now, missing, cells, same, examples = compare(results["pdfplumber"][0][1],
                                                                     results["pypdf cells"][0][1])
    print(f"tables: pdfplumber {tables_ref}, pypdf cells {tables_now}, missing {missing}; "
          f"cells the same {same} of {cells} ({same / max(cells, 1):.1%})")
    for name, page, ref_cell, now_cell in examples:
        print(f"  {name} p{page}: pdfplumber {ref_cell!r} / pypdf {now_cell!r}")
    if args.ingest:
        ingests = timed_ingests(args.corpus, args.ingest)
        without, with_tables = statistics.median(ingests["text only"]), statistics.median(ingests["now"])
        print(f"whole ingest of {args.corpus.name}, median of {args.ingest}: text only {without:.1f} s, "
              f"with tables {with_tables:.1f} s ({with_tables / without:.2f}x)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
