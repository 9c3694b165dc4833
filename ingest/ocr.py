"""Text for PDF pages that have none: the page's images read by Tesseract (Debian `tesseract-ocr`
and `tesseract-ocr-eng`, through pytesseract). Only pages without a text layer are read, so a
text PDF never pays for OCR, and a mixed PDF keeps its text pages as they are.

Chosen over RapidOCR on the scans in ../shared/datasets/scanned/ (bench/bench_ocr.py): RapidOCR ran
words together ("Penneedlesare available in a completerange of sizesfrom4mm"), which breaks
keyword search and quotes; Tesseract kept the spaces, pound signs and figures.
"""
from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass

from .documents import IngestError

# A page with fewer characters than this in its text layer is treated as having none (a scan
# often carries a stray page number or a few vector glyphs).
MIN_TEXT_CHARS = 20


@dataclass(frozen=True)
class OcrLimits:
    enabled: bool = True
    max_pages: int = 50  # Settings.ocr_max_pages
    time_limit_s: float = 300.0  # Settings.ocr_time_limit_s


def available() -> bool:
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


# Tesseract's English model reads a bullet "•" at a line start as e / e¢ / ¢ / « / © / o, and a
# contents list's dot leaders as letter soup ("....c.csccsessesceseseesee"). On the scans in
# ../shared/datasets/scanned/ (bench/bench_ocr.py, fair CER): 150 dpi 13.1% -> 2.8%, 300 dpi
# 9.4% -> 9.0%, 200 dpi 0.36% -> 0.32%, at no cost in time. A line starting "e " or "o " before a
# capital letter or a figure is, in English policy text, a bullet.
_BULLET = re.compile(r"^[ \t]*(?:e¢|e|¢|«|©|°|@|eo|o)[ \t]+(?=[A-Z0-9£(])", re.M)
_LEADER = re.compile(r"[.…·,:;]*[.…·]{4,}\S*")


def tidy(text: str) -> str:
    """OCR text with bullets read as letters put back as "•" and dot leaders as one "…"."""
    return _LEADER.sub(" … ", _BULLET.sub("• ", text))


# Scans much finer than this are read at it: on 300-dpi scans of the NHS pages (bench/bench_ocr.py:
# 16 pages scanned there and the 4 shared ones) Tesseract read contents lists as letter soup ("Plain
# language SUMIMALY"): fair CER 3.8% over the 20 pages as scanned, 2.5% read at 200 dpi and 2.4% at
# 150 dpi; 150 dpi lost small bullets on the shared scan, which read best at 200 dpi. Fewer pixels
# to read too. Scans up to 1.4 times this are read as they are.
READ_DPI = 200


def at_reading_resolution(picture, dpi: float):
    """The page image resampled to READ_DPI when it is much finer (above 1.4 times that)."""
    if dpi <= READ_DPI * 1.4:
        return picture
    from PIL import Image

    scale = READ_DPI / dpi
    return picture.convert("L").resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                                       Image.LANCZOS)


def read_image(picture, dpi: float, timeout: float = 0) -> str:
    """One page image's text, as ingest reads it: at reading resolution, dot leaders and table rules
    out (ingest/scan_cleanup.py), bullets and leaders tidied."""
    import pytesseract

    from .scan_cleanup import clean_page

    page = clean_page(at_reading_resolution(picture, dpi))
    return tidy(pytesseract.image_to_string(page, lang="eng", timeout=timeout))


def page_image_dpi(picture, pdf_page) -> float:
    """The image's resolution if it spans the page's width (a scan does); smaller for an image
    placed smaller on the page, which is then read as it is."""
    try:
        inches = float(pdf_page.mediabox.width) / 72
    except Exception:
        return 0.0
    return picture.width / inches if inches > 0 else 0.0


def needs_ocr(text: str) -> bool:
    return len(text.strip()) < MIN_TEXT_CHARS


class PageReader:
    """Reads the images of pages without text, within the file's page and time limits."""

    def __init__(self, limits: OcrLimits):
        self.limits = limits
        self.pages_read = 0
        self.started = time.monotonic()

    def read(self, pdf_page, number: int) -> str:
        if not self.limits.enabled:
            raise IngestError("no text layer (scanned or image-only pages) and OCR is off "
                              "(POLICY_ASSISTANT_OCR)")
        if not available():
            raise IngestError("no text layer (scanned or image-only pages) and OCR is not installed: "
                              "install Debian's tesseract-ocr and tesseract-ocr-eng (make install does)")
        if self.pages_read >= self.limits.max_pages:
            raise IngestError(f"more than {self.limits.max_pages} pages need OCR "
                              "(POLICY_ASSISTANT_OCR_MAX_PAGES)")
        left = self.limits.time_limit_s - (time.monotonic() - self.started)
        if left <= 0:
            raise IngestError(f"OCR took longer than {self.limits.time_limit_s:g} s by page {number} "
                              "(POLICY_ASSISTANT_OCR_TIME_LIMIT_S)")
        texts = []
        try:
            images = list(pdf_page.images)
        except Exception:  # an image pypdf cannot decode: the page stays without text
            images = []
        for image in images:
            try:
                picture = image.image
            except Exception:
                continue
            if picture is None or min(picture.size) < 50:
                continue  # logos and rules, not text
            try:
                texts.append(read_image(picture, page_image_dpi(picture, pdf_page), timeout=max(left, 1)))
            except RuntimeError:  # pytesseract's timeout
                raise IngestError(f"OCR took longer than {self.limits.time_limit_s:g} s by page {number} "
                                  "(POLICY_ASSISTANT_OCR_TIME_LIMIT_S)") from None
        self.pages_read += 1
        return "\n".join(t.strip() for t in texts if t.strip())
