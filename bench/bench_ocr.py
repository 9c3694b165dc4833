"""OCR engines on the scans in ../shared/datasets/scanned/, against the originals' text layers.

    python bench/bench_ocr.py [--engines tesseract,rapidocr] [--pages N] [--made 300,150] [--no-ingest] [--text-pdfs N]

For each engine and each scanned file (each is one dpi: 150, 200 or 300): the character error rate
(edit distance over the original page's characters, whitespace collapsed; it also counts text read
in another order than pypdf's, such as a header or a contents list, so it overstates misreadings);
the fair CER (both sides in Unicode compatibility form with dot leaders as one "…", dashes, quote
marks and bullets each in one form, and the OCR
text's word runs moved into the original's order when that is closer: words are moved, never
changed, added or dropped, so every misreading still counts); for Tesseract also the fair CER with
the original's images (logos, whose words no text layer holds) blanked on the scan; the fair CER
as indexed (both files' pages after ingest drops running headers and footers, letterheads included);
the word error rate without order (the share of the original's words, as a multiset, that the OCR
text lacks) and pages a second; then the same for Tesseract on pages scanned here the same way
(`--made`: every NHS PDF's second and middle page, rendered at 300 and 150 dpi, tilted, noisy, JPEG);
then
the ingest time of a 20-page scanned document (the 150-dpi IFR scan, four times over) against the
ingest of its text original, measured in the same run. Pages with a text layer are never OCR'd:
the NHS PDFs' ingest time is the baseline for that.
"""
from __future__ import annotations

import argparse
import re
import tempfile
import unicodedata
import time
from functools import lru_cache
from pathlib import Path

from _setup import ROOT, SHARED  # noqa: E402,F401  (offline, quiet, project on sys.path)

SCANNED = SHARED / "datasets" / "scanned"
NHS = SHARED / "datasets" / "nhs-policy-pdfs"
# scan -> (its original, dpi, {scan page: original page}); the mixed file's pages 1-3 are text
SETS = {
    "insulin-needles-scanned-300dpi.pdf": ("Prescribing-of-Insulin-Needles.pdf", 300, {i: i for i in range(1, 5)}),
    "ifr-policy-pages-1-5-scanned-150dpi.pdf": ("Commissioning-policy-individual-funding-requests-v3.pdf", 150,
                                                {i: i for i in range(1, 6)}),
    "dapagliflozin-ckd-mixed-text-and-scanned.pdf": (
        "202310-Dapagliflozin-for-Chronic-kidney-disease-prescribing-support-document-1.pdf", 200,
        {i: i for i in range(4, 7)}),
}


def missing_words(truth: str, text: str) -> float:
    """Share of the original's words (lower case, as a multiset) the OCR text does not have."""
    from collections import Counter

    def words(value: str) -> Counter:
        return Counter(w.strip(".,;:()[]'\"“”‘’").lower() for w in value.split() if w.strip(".,;:()[]'\"“”‘’"))

    expected = words(truth)
    return 1 - sum((expected & words(text)).values()) / max(sum(expected.values()), 1)


def lev(a: str, b: str) -> int:
    """Levenshtein distance, numpy rows with a running minimum (0.05 s a page; pure Python took 10 s)."""
    import numpy as np

    if not a or not b:
        return len(a) or len(b)
    other = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    previous, current = steps.copy(), np.empty(len(b) + 1, dtype=np.int64)
    for i, ca in enumerate(a, 1):
        current[0] = i
        np.minimum(previous[1:] + 1, previous[:-1] + (other != ord(ca)), out=current[1:])
        previous = np.minimum.accumulate(current - steps) + steps
    return int(previous[-1])


_DOTS = re.compile(r"(?:\s*[.·]){3,}")
# Typography, not reading: a dash is a dash whatever its length, a quote mark curly or straight, and
# a list bullet one mark (a text layer writes a symbol font's sub-bullet as the letter "o").
_DASHES = re.compile(r"[‐‑‒–—―]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_BULLETS = re.compile(r"(?<!\S)[•◦▪●o*·](?!\S)")


def normalise(text: str) -> str:
    """Both sides: compatibility forms (the original's "ﬁ" is "fi" on paper; "…" is "..."), then a
    dot-leader run of any length as one "…" (its count is typography), dashes, quote marks and
    bullets in one form each, whitespace collapsed."""
    text = _DOTS.sub(" … ", unicodedata.normalize("NFKC", text))
    text = _BULLETS.sub("•", _DASHES.sub("-", text).translate(_QUOTES))
    return " ".join(text.split())


def in_truth_order(ocr: str, truth: str) -> str:
    """The OCR text's words, runs shared with the truth placed in the truth's order (the longest
    shared run first, each word used once); a word the truth lacks travels with the one before it."""
    from difflib import SequenceMatcher

    words, target = normalise(ocr).split(), normalise(truth).split()
    left, right, key = list(words), list(target), [None] * len(words)
    while True:
        match = SequenceMatcher(None, left, right, autojunk=False).find_longest_match(0, len(left), 0, len(right))
        if match.size == 0:
            break
        for k in range(match.size):
            key[match.a + k] = match.b + k
            left[match.a + k], right[match.b + k] = object(), object()
    last, order = -1, []
    for i, word in enumerate(words):
        last = key[i] if key[i] is not None else last
        order.append((last + (0 if key[i] is not None else 0.5), i, word))
    return " ".join(word for *_, word in sorted(order))


def fair_errors(truth: str, ocr: str) -> int:
    """Edit distance after normalising, in the better of the OCR's order and the truth's."""
    t = normalise(truth)
    return min(lev(t, normalise(ocr)), lev(t, in_truth_order(ocr, truth)))


def tesseract(image, dpi: float = 0) -> str:
    from ingest.ocr import read_image

    return read_image(image, dpi)  # as ingest/ocr.py reads a page


def original_image_boxes(original: Path, number: int) -> list[tuple]:
    """The original page's images (logos) as fractions of the page."""
    import pdfplumber

    with pdfplumber.open(str(original)) as pdf:
        page = pdf.pages[number - 1]
        return [(i["x0"] / page.width, i["top"] / page.height, i["x1"] / page.width, i["bottom"] / page.height)
                for i in page.images]


def blank_images(image, boxes: list[tuple], pad: float = 0.015):
    """The scan with the original's image areas painted white (padded for the scan's tilt)."""
    from PIL import ImageDraw

    image = image.convert("L").copy()
    draw, (width, height) = ImageDraw.Draw(image), image.size
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([(x0 - pad) * width, (y0 - pad) * height, (x1 + pad) * width, (y1 + pad) * height], fill=255)
    return image


_RAPID = None


def rapidocr(image, dpi: float = 0) -> str:  # read at the scan's own resolution
    global _RAPID
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    _RAPID = _RAPID or RapidOCR()
    result, _ = _RAPID(np.array(image.convert("RGB")))
    return "\n".join(line[1] for line in result or [])


ENGINES = {"tesseract": tesseract, "rapidocr": rapidocr}


@lru_cache(maxsize=8)
def _reader(pdf: Path):
    from pypdf import PdfReader

    return PdfReader(str(pdf))  # parsed once, not once a page


def page_text(pdf: Path, number: int) -> str:
    return " ".join((_reader(pdf).pages[number - 1].extract_text() or "").split())


def raw_page_text(pdf: Path, number: int) -> str:
    return _reader(pdf).pages[number - 1].extract_text() or ""


def page_errors(truth: str, raw_truth: str, text: str) -> tuple[int, int, int, int]:
    """One page's (CER errors, characters, fair errors, fair characters) against its original."""
    return lev(truth, " ".join(text.split())), len(truth), fair_errors(raw_truth, text), len(normalise(raw_truth))


def as_indexed(reader, read_pages: dict[int, str], ocr: bool = False) -> dict[int, str]:
    """Pages as ingest keeps them: after ``clean.drop_running_lines`` over the whole file (its other
    pages' text layers as they are), which drops running headers and footers, letterheads included.
    The scan's OCR'd pages and the original's text pages go through it alike."""
    from ingest.clean import drop_running_lines
    from ingest.documents import Document, Page

    pages = [Page("file", n, read_pages[n], ocr=ocr) if n in read_pages else Page("file", n, page.extract_text() or "")
             for n, page in enumerate(reader.pages, 1)]
    drop_running_lines(Document("scan", "", None, "pdf", pages))
    return {page.page: page.text for page in pages if page.page in read_pages}


def measure(engine: str, limit: int) -> list[dict]:
    read = ENGINES[engine]
    rows = []
    for scan, (original, dpi, pages) in SETS.items():
        reader = _reader(SCANNED / scan)
        errors = chars = fair = fair_chars = blanked = 0
        seconds = 0.0
        word_misses = []
        read_pages: dict[int, str] = {}
        for scan_page, original_page in list(pages.items())[:limit]:
            truth = page_text(NHS / original, original_page)
            raw_truth = raw_page_text(NHS / original, original_page)
            images = [image.image for image in reader.pages[scan_page - 1].images]
            started = time.perf_counter()
            text = "\n".join(read(image, dpi) for image in images)
            seconds += time.perf_counter() - started
            read_pages[scan_page] = text
            page_cer, page_chars, page_fair, page_fair_chars = page_errors(truth, raw_truth, text)
            errors, chars, fair, fair_chars = (errors + page_cer, chars + page_chars, fair + page_fair,
                                               fair_chars + page_fair_chars)
            word_misses.append(missing_words(truth, text))
            if engine == "tesseract":  # once more with the logos blanked: text no text layer holds
                boxes = original_image_boxes(NHS / original, original_page)
                text = "\n".join(read(blank_images(image, boxes) if min(image.size) >= 50 else image, dpi) for image in images)
                blanked += fair_errors(raw_truth, text)
        n = min(limit, len(pages))
        wer = sum(word_misses) / max(len(word_misses), 1)
        row = {"engine": engine, "file": scan, "dpi": dpi, "pages": n, "cer": errors / max(chars, 1),
               "fair_cer": fair / max(fair_chars, 1), "unordered_wer": wer, "pages_per_s": n / seconds if seconds else 0.0}
        if engine == "tesseract":
            row["fair_cer_logos_blanked"] = blanked / max(fair_chars, 1)
        kept = as_indexed(reader, read_pages, ocr=True)
        truth_kept = as_indexed(_reader(NHS / original), {pages[n]: raw_page_text(NHS / original, pages[n]) for n in kept})
        indexed_chars = sum(len(normalise(text)) for text in truth_kept.values())
        row["fair_cer_as_indexed"] = sum(
            fair_errors(truth_kept[pages[n]], text) for n, text in kept.items()) / max(indexed_chars, 1)
        rows.append(row)
        extra = f", logos blanked {row['fair_cer_logos_blanked']:6.2%}" if "fair_cer_logos_blanked" in row else ""
        extra += f", as indexed {row['fair_cer_as_indexed']:6.2%}"
        print(f"{engine:9} {dpi:3d} dpi {scan[:40]:40} {n} pages: CER {row['cer']:6.2%}, fair CER {row['fair_cer']:6.2%}"
              f"{extra}, words missing {wer:6.2%}, {n / seconds:.2f} pages/s", flush=True)
    return rows


def made_scan(pdf: Path, number: int, dpi: int, rng):
    """A page scanned the way ../shared/datasets/scanned/ was made: rendered at `dpi` in greyscale,
    tilted by up to 1 degree either way, with noise, saved as a JPEG (the shared scans' own format)."""
    import io

    import numpy as np
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        image = document[number - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    angle = float(rng.uniform(0.3, 1.0) * rng.choice([-1, 1]))
    image = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 12, (image.height, image.width))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return Image.open(io.BytesIO(buffer.getvalue())), angle


def made_pages() -> list[tuple[Path, int]]:
    """Every NHS PDF's second page and middle page (its first when it has one page): not chosen by
    how they read, and mostly body text rather than the cover pages the shared scans favour."""
    chosen = []
    for pdf in sorted(NHS.glob("*.pdf")):
        count = len(_reader(pdf).pages)
        for number in sorted({min(2, count), max(1, (count + 1) // 2)}):
            chosen.append((pdf, number))
    return chosen


def measure_made(dpi: int, limit: int, as_scanned: bool = False) -> dict:
    """Tesseract on pages scanned here at `dpi` (seeded, so each run scans the same pages alike);
    with ``as_scanned``, read at the scan's own resolution (the reading before stop 27: a page
    whose resolution is not known is read as it is)."""
    import numpy as np

    read_at = 0 if as_scanned else dpi
    rng = np.random.default_rng(20261202)
    errors = chars = fair = fair_chars = blanked = pages = with_images = 0
    seconds = 0.0
    for pdf, number in made_pages()[:limit]:
        raw_truth = raw_page_text(pdf, number)
        if not raw_truth.strip():
            continue
        image, _ = made_scan(pdf, number, dpi, rng)
        started = time.perf_counter()
        text = tesseract(image, read_at)
        seconds += time.perf_counter() - started
        page_cer, page_chars, page_fair, page_fair_chars = page_errors(page_text(pdf, number), raw_truth, text)
        errors, chars, fair, fair_chars = (errors + page_cer, chars + page_chars, fair + page_fair,
                                           fair_chars + page_fair_chars)
        boxes = original_image_boxes(pdf, number)
        with_images += bool(boxes)
        blanked += fair_errors(raw_truth, tesseract(blank_images(image, boxes), read_at) if boxes else text)
        pages += 1
    row = {"engine": "tesseract", "file": f"made here: {pages} NHS pages", "dpi": dpi, "pages": pages,
           "pages_with_images": with_images, "cer": errors / max(chars, 1), "fair_cer": fair / max(fair_chars, 1),
           "fair_cer_logos_blanked": blanked / max(fair_chars, 1), "pages_per_s": pages / seconds if seconds else 0.0}
    print(f"tesseract {dpi:3d} dpi made here, {pages} NHS pages ({with_images} with images): CER {row['cer']:6.2%}, "
          f"fair CER {row['fair_cer']:6.2%}, logos blanked {row['fair_cer_logos_blanked']:6.2%}, "
          f"{row['pages_per_s']:.2f} pages/s", flush=True)
    return row


def ingest_times() -> None:
    """A 20-page scan (the 5 IFR pages four times) against its 29-page text original."""
    import ingest
    from index.settings import Settings
    from pypdf import PdfReader, PdfWriter

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        writer = PdfWriter()
        scan = PdfReader(str(SCANNED / "ifr-policy-pages-1-5-scanned-150dpi.pdf"))
        for _ in range(4):
            for page in scan.pages:
                writer.add_page(page)
        (folder / "scan").mkdir()
        with (folder / "scan" / "ifr-20-pages-scanned.pdf").open("wb") as fh:
            writer.write(fh)
        for label, path in (("text original, 29 pages", NHS / "Commissioning-policy-individual-funding-requests-v3.pdf"),
                            ("20-page scan (150 dpi)", folder / "scan" / "ifr-20-pages-scanned.pdf")):
            started = time.perf_counter()
            report = ingest.run([path], Settings(store=folder / f"store-{len(label)}"))
            print(f"ingest of the {label}: {time.perf_counter() - started:.1f} s, {report.total_chunks} chunks, "
                  f"failed {len(report.failed)}", flush=True)


def text_pdf_ingest(rounds: int) -> None:
    """The NHS folder (text PDFs and a DOCX) ingested into a fresh store with OCR on and with it off,
    alternating, ``rounds`` times each: OCR must cost text PDFs nothing (issue 15)."""
    import statistics

    import ingest
    from index.settings import Settings

    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            for ocr in ((True, False) if n % 2 == 0 else (False, True)):
                started = time.perf_counter()
                report = ingest.run([NHS], Settings(store=Path(tmp) / f"store-{n}-{ocr}", ocr=ocr))
                times[ocr].append(time.perf_counter() - started)
                read_by_ocr = sum(f.get("ocr_pages", 0) for f in report.files)
                print(f"round {n + 1}: OCR {'on ' if ocr else 'off'} {times[ocr][-1]:.1f} s, {report.total_chunks} chunks, "
                      f"pages read by OCR {read_by_ocr}, failed {len(report.failed)}", flush=True)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"ingest of nhs-policy-pdfs, median of {rounds}: OCR on {on:.1f} s, OCR off {off:.1f} s ({on / off:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="tesseract,rapidocr")
    parser.add_argument("--pages", type=int, default=5, help="most pages measured per file")
    parser.add_argument("--made", default="300,150", help="dpis of the scans made here of the NHS pages ('' for none)")
    parser.add_argument("--made-pages", type=int, default=18, help="most pages scanned here per dpi")
    parser.add_argument("--no-ingest", action="store_true", help="skip the 20-page ingest timing")
    parser.add_argument("--text-pdfs", type=int, default=0, metavar="N",
                        help="also ingest the NHS folder with OCR on and off, N alternating rounds each")
    parser.add_argument("--as-scanned", action="store_true",
                        help="also read the made scans at their own resolution (before stop 27), in the same run")
    args = parser.parse_args()
    for engine in filter(None, args.engines.split(",")):
        measure(engine, args.pages)
    for dpi in filter(None, args.made.split(",")):
        if args.as_scanned:
            print("read as scanned:", end=" ")
            measure_made(int(dpi), args.made_pages, as_scanned=True)
        measure_made(int(dpi), args.made_pages)
    if not args.no_ingest:
        ingest_times()
    if args.text_pdfs:
        text_pdf_ingest(args.text_pdfs)


if __name__ == "__main__":
    main()
