"""A scanned page cleaned before Tesseract reads it (ingest/ocr.py): dot leaders and vertical table
rules out. Fitted on the scans in ../shared/datasets/scanned/ (bench/bench_ocr.py, fair CER with the
original's logos blanked): 300 dpi 3.84% -> 1.57%, 150 dpi 2.56% -> 0.77%, 200 dpi 0.32% -> 0.20%,
for about 0.1-0.5 s a page.

1. Dot leaders (a contents list's "Introduction .......... 1"). Tesseract reads a long, slightly
   tilted row of dots as letter soup and drags the title and the page number into it ("IGN CUCTON
   acct Greenies a ae 1"). Each leader is found as a chain of small, evenly spaced dots of one size
   on one text row, erased with everything small in its band, and the page number at its end is
   moved next to the title: Tesseract then reads "Introduction 1". Erasing only the dots is not
   enough: the numbers then stand as a column of their own ("BRB B WwW Ww NY NY BF").
2. Vertical table rules (thin ink runs at least 5 letter heights tall), which Tesseract reads as
   "|". Horizontal rules stay: erasing them changed how Tesseract reads a 3-column table (200 dpi
   0.3% -> 1.4%).

Erased ink is painted the paper's median grey, not white: a pure-white band on a grainy scan made
Tesseract drop a contents line. A page with neither comes back as ``image.convert("L")``.
numpy, Pillow and scipy.ndimage.
"""
from __future__ import annotations


import numpy as np
from PIL import Image


def _ink_threshold(a: np.ndarray) -> int:
    """Otsu's threshold of a grey image, capped at 160 (ink is darker than that on these scans)."""
    hist = np.bincount(a.ravel(), minlength=256).astype(np.float64)
    p = hist / hist.sum()
    omega, mu = np.cumsum(p), np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    if np.isnan(between).all():                  # one grey level (a blank page): no ink
        return 0
    return min(int(np.nanargmax(between)), 160)


def _leaders(a: np.ndarray, min_dots: int = 5):
    """The dot leaders on the page: a list of rows (each a list of dot boxes x0, y0, x1, y1), a mask
    of the page's big ink (letters, digits: what must not be erased), and the typical letter height."""
    from scipy import ndimage as ndi

    labels, n = ndi.label(a < _ink_threshold(a), structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return [], None, 0.0
    slices = ndi.find_objects(labels)
    y0 = np.array([s[0].start for s in slices]); y1 = np.array([s[0].stop for s in slices])
    x0 = np.array([s[1].start for s in slices]); x1 = np.array([s[1].stop for s in slices])
    h, w = y1 - y0, x1 - x0
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    if (h >= 6).sum() < 20:
        return [], None, 0.0
    text_h = float(np.median(h[h >= 6]))            # typical letter height in px
    dot_max = max(2.0, 0.42 * text_h)
    dot = ((h <= dot_max) & (w <= dot_max) & (np.maximum(h, w) <= 2.2 * np.minimum(h, w) + 1)
           & (area >= 0.45 * h * w) & (area >= max(3, 0.01 * text_h * text_h)))
    big = np.zeros(n + 1, dtype=bool)
    big[1:] = ~dot & ((h > 1.2 * dot_max) | (w > 2.5 * dot_max))
    big = big[labels]
    idx = np.flatnonzero(dot)
    if len(idx) < min_dots:
        return [], big, text_h
    cx, cy = (x0[idx] + x1[idx]) / 2.0, (y0[idx] + y1[idx]) / 2.0
    size = np.maximum(h[idx], w[idx]).astype(float)
    order = np.argsort(cx)
    cx, cy, size, idx = cx[order], cy[order], size[order], idx[order]
    # each dot's nearest dot to the right on its row (same height, same size, within 1.3 letter heights)
    nxt, step = np.full(len(idx), -1), np.zeros(len(idx))
    for i in range(len(idx)):
        j = np.searchsorted(cx, cx[i] + 0.5, side="left")
        k = np.searchsorted(cx, cx[i] + 1.3 * text_h, side="right")
        if j >= k:
            continue
        ok = ((np.abs(cy[j:k] - cy[i]) <= max(1.5, 0.35 * size[i]))
              & (np.abs(size[j:k] - size[i]) <= max(1.5, 0.5 * size[i])))
        if ok.any():
            cand = np.flatnonzero(ok) + j
            best = cand[np.argmin(cx[cand])]
            nxt[i], step[i] = best, cx[best] - cx[i]
    has_prev = np.zeros(len(idx), dtype=bool)
    has_prev[nxt[nxt >= 0]] = True
    seen, rows = np.zeros(len(idx), dtype=bool), []
    for start in np.flatnonzero(~has_prev):
        chain, i = [], start
        while i >= 0 and not seen[i]:
            seen[i] = True
            chain.append(i)
            i = nxt[i]
        if len(chain) < min_dots:
            continue
        steps = step[chain[:-1]]
        regular = np.abs(steps - np.median(steps)) <= 0.35 * np.median(steps)
        best, run_start, span = 0, 0, (0, 0)          # the longest run of even steps
        for k, r in enumerate(list(regular) + [False]):
            if not r:
                if k - run_start > best:
                    best, span = k - run_start, (run_start, k)
                run_start = k + 1
        if best + 1 >= min_dots:
            rows.append([(int(x0[idx[i]]), int(y0[idx[i]]), int(x1[idx[i]]), int(y1[idx[i]]))
                         for i in chain[span[0]:span[1] + 1]])
    return rows, big, text_h


def _pull_leaders(a: np.ndarray, rows, big, text_h: float, paper: int, dots: int = 0) -> None:
    """In place: erase each leader's band (from the title's end to the page number, all but big ink)
    and move the page number next to the title, with `dots` crisp dots between them."""
    H, W = a.shape
    for row in rows:
        cx = np.array([(b[0] + b[2]) / 2 for b in row]); cy = np.array([(b[1] + b[3]) / 2 for b in row])
        slope, icept = np.polyfit(cx, cy, 1)                      # the row's tilt
        size = float(np.median([max(b[2] - b[0], b[3] - b[1]) for b in row]))
        step = float(np.median(np.diff(cx)))
        half = max(2, int(round(0.75 * size)) + 1)

        def band(x):
            yc = int(round(icept + slope * x))
            return max(yc - half, 0), min(yc + half + 1, H)

        def band_has_big(x):
            y0, y1 = band(x)
            return big[y0:y1, x].any()

        first, last = min(b[0] for b in row), max(b[2] for b in row)
        xl = first                                   # out to the title's last letter
        while xl > 0 and first - xl < 25 * text_h and not band_has_big(xl - 1):
            xl -= 1
        xr = last                                    # out to the page number's first digit
        while xr < W - 1 and xr - last < 25 * text_h and not band_has_big(xr):
            xr += 1
        for x in range(xl, xr):
            y0, y1 = band(x)
            col = a[y0:y1, x]
            col[~big[y0:y1, x]] = paper
        # the page number: big ink right of the leader, on the row, up to the first wide gap
        yc = int(round(icept + slope * xr))
        y0, y1 = max(yc - int(1.6 * text_h), 0), min(yc + int(0.6 * text_h) + 1, H)
        cols = np.flatnonzero(big[y0:y1, xr:min(xr + int(4 * text_h), W)].any(axis=0))
        if len(cols) == 0:
            continue                                 # a leader without a number: dots erased only
        gaps = np.flatnonzero(np.diff(cols) > text_h)
        nx1 = xr + (cols[gaps[0]] if len(gaps) else cols[-1]) + 1
        nx0 = max(xr + cols[0] - int(0.3 * text_h), 0)   # a digit's parts left of its stem ("1"'s flag)
        gap = max(step, 2 * size)
        px = int(round(xl + (dots + 1.5) * gap))     # a word space after the title (and the dots)
        dy = int(round(slope * (px - nx0)))
        if y0 + dy < 0 or y1 + dy > H or px + (nx1 - nx0) > W or px >= nx0:
            continue
        patch = a[y0:y1, nx0:nx1].copy()
        a[y0:y1, nx0:nx1] = paper
        r = max(1, int(round(size / 2)))
        for k in range(1, dots + 1):
            x = xl + k * gap
            yd, xi = int(round(icept + slope * x)), int(round(x))
            a[yd - r:yd + r, xi - r:xi + r] = 0
        target = a[y0 + dy:y1 + dy, px:px + (nx1 - nx0)]
        np.minimum(target, patch, out=target)


def _erase_vertical_rules(a: np.ndarray, text_h: float, paper: int, length: float = 5.0) -> None:
    """In place: paint thin vertical ink runs at least `length` letter heights tall (table rules)."""
    from scipy import ndimage as ndi

    ink = (a < _ink_threshold(a)).astype(np.uint8)
    run = max(int(length * text_h), 15)
    vert = ndi.maximum_filter1d(ndi.minimum_filter1d(ink, run, axis=0), run, axis=0)   # opening, O(pixels)
    labels, n = ndi.label(vert)
    if not n:
        return
    tall = np.array([s[0].stop - s[0].start for s in ndi.find_objects(labels)])
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    keep = np.zeros(n + 1, dtype=bool)
    keep[1:] = area / np.maximum(tall, 1) <= max(3.0, 0.22 * text_h)      # thin: a rule, not a letter's stem
    rule = ndi.binary_dilation(keep[labels], iterations=1)                   # and its grey edge
    a[rule] = paper


def clean_page(image: Image.Image, leader_dots: int = 0) -> Image.Image:
    """The page in grey, dot leaders out (page numbers moved next to their titles, with
    `leader_dots` clean dots between), vertical table rules out. A page with neither comes back as
    image.convert("L")."""
    a = np.array(image.convert("L"))
    rows, big, text_h = _leaders(a)
    if not text_h:
        return Image.fromarray(a)
    paper = int(np.median(a))
    if rows:
        _pull_leaders(a, rows, big, text_h, paper, leader_dots)
    _erase_vertical_rules(a, text_h, paper)
    return Image.fromarray(a)
