"""How many documents of each shared set get each fact (issue 14), read with the project's own
loaders and cleaning, as ingest reads them (nothing is embedded or stored).

    python bench/facts_report.py            # --sets seeds,integration-policy,nhs-policy-pdfs,la-duties
"""
from __future__ import annotations

import argparse
from pathlib import Path

from _setup import ROOT, SHARED  # noqa: F401

SETS = {"seeds": SHARED / "seeds", "integration-policy": SHARED / "datasets" / "integration-policy",
        "nhs-policy-pdfs": SHARED / "datasets" / "nhs-policy-pdfs", "la-duties": SHARED / "datasets" / "la-duties"}
SHOWN = ("title", "publisher", "published", "updated", "version", "review_by", "supersedes", "status≠current")


def read_facts(path: Path):
    from ingest.clean import clean_document
    from ingest.facts import document_facts, read_sidecar
    from ingest.loaders import load

    return document_facts(clean_document(load(path, 25)), read_sidecar(path))


def main() -> None:
    from ingest.loaders import doc_type_of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--show", action="store_true", help="print each document's facts")
    args = parser.parse_args()
    print(f"{'set':<20} {'files':>5} " + " ".join(f"{name:>14}" for name in SHOWN))
    for name in args.sets.split(","):
        files = sorted(p for p in SETS[name].iterdir() if p.is_file() and doc_type_of(p))
        counts = dict.fromkeys(SHOWN, 0)
        for path in files:
            facts = read_facts(path)
            for fact in SHOWN:
                counts[fact] += bool(facts.status != "current" if fact == "status≠current" else getattr(facts, fact))
            if args.show:
                print(f"  {path.name[:50]:<50} {facts.published} {facts.updated} v{facts.version!r} "
                      f"pub={facts.publisher[:30]!r} review={facts.review_by} replaces={facts.supersedes[:40]!r} {facts.status}")
        print(f"{name:<20} {len(files):>5} " + " ".join(f"{counts[f]:>14}" for f in SHOWN), flush=True)


if __name__ == "__main__":
    main()
