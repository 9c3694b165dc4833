"""PDF tables read from pypdf's own pass: the lines a page draws and the text it places.

pdfplumber finds a table from the ruling lines a page draws, but to know them it has pdfminer
lay out every object of the page, characters included: on the nine NHS PDFs that layout was 25 s
of a 27 s table pass, for 51 tables on 187 pages. Both halves are already at hand: pypdf's text
pass walks every operator of the page (ingest/loaders.py), rectangles and line segments included,
and reports each piece of text it extracts with the point where it starts. This module collects
the segments and the text, lets pdfplumber's own table geometry (its edge merging, intersections,
cells and tables, with its default settings) find the cells from the painted segments, and puts
each piece of text in the cell that holds its start. Words stay whole: pypdf has already joined
the glyphs, and only its own line breaks become spaces.

Only painted segments count, as in pdfplumber (a clipping rectangle draws nothing). A table is a
grid of at least two rows and two columns of cells, the test pdfplumber's rows had to pass before.
"""
from __future__ import annotations

# A page that paints more segments than this is a chart, a map or a logo traced in lines: its
# cell geometry would cost seconds and find no table. The densest NHS table page paints 1,312.
MAX_SEGMENTS = 20000
# A piece of text is placed by a point this share of its font size above its baseline: inside the
# glyphs, as pdfplumber places a character by the middle of its box (a baseline can sit on a rule).
BASELINE_LIFT = 0.3
# Ligature glyphs as their letters, as pdfplumber's cells had them ("Greenfine", "Tariff").
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# Operators that paint the path built so far; "n" ends it unpainted (a clipping path).
_PAINT = frozenset({b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"})
# Below this a segment is taken as straight along the axis (PDF units, 1/72 inch).
AXIS_TOLERANCE = 0.01


class PageDrawing:
    """The straight segments one page draws and the pieces of text it places, fed by pypdf's
    operator and text visitors (``visit``, ``visit_text``), in page units (the current
    transformation applied); from them, the page's tables."""

    def __init__(self, page_height: float = 0.0) -> None:
        # Cells are in pdfplumber's space, y measured down from the top, so rows read top to
        # bottom; without a height they read bottom to top (enough to count them).
        self.page_height = page_height
        self._cells: list[list[tuple]] | None = None
        self.painted: list[tuple[float, float, float, float]] = []  # the segments of painted paths
        self.texts: list[tuple[str, float, float]] = []  # (text, x, y) where each piece starts
        self._path: list[tuple[float, float, float, float]] = []  # the segments of the path being built
        self._start: tuple[float, float] | None = None
        self._point: tuple[float, float] | None = None

    def visit(self, operator: bytes, operands: list, cm: list) -> None:
        if operator in _PAINT:
            self.painted.extend(self._path)
            self._path.clear()
            return
        if operator == b"n":
            self._path.clear()
            return
        if operator not in _PATH_OPERATORS:
            return
        try:
            numbers = [float(value) for value in operands]
            matrix = tuple(float(value) for value in cm)  # once an operator, not once a point
        except (TypeError, ValueError):  # a malformed operator: nothing drawn we can place
            return
        _PATH_OPERATORS[operator](self, numbers, matrix)

    def visit_text(self, text: str, cm: list, tm: list, font, font_size) -> None:
        """pypdf's ``visitor_text``: a piece of extracted text and the matrices where it starts."""
        if not text:
            return
        try:
            matrix = tuple(float(value) for value in cm)
            x, y = _place(float(tm[4]), float(tm[5]), matrix)
            lift = BASELINE_LIFT * float(font_size or 0) * abs(float(tm[3]) * matrix[3])
        except (TypeError, ValueError, IndexError):  # no usable position: the text stays in the page text
            return
        self.texts.append((text, x, y + lift))

    def tables(self) -> list[list[list[str]]]:
        """Each table's rows of cell texts, top to bottom and left to right, one column each ("" for
        an empty cell and for the columns a merged cell spans past its first), as pdfplumber's
        ``Table.extract`` gives them."""
        from pdfplumber.table import Table

        return [[[self._cell_text(cell) if cell else "" for cell in row.cells] for row in Table(None, cells).rows]
                for cells in self._grids()]

    def holds_table(self) -> bool:
        """Whether the painted segments form a grid of at least two rows and two columns of cells,
        as pdfplumber reckons cells and groups them into tables (a lone box or a rule is no table)."""
        return bool(self._grids())

    def _grids(self) -> list[list[tuple]]:
        """The cells of each table the painted segments form (computed once a page)."""
        if self._cells is None:
            self._cells = [] if len(self.painted) > MAX_SEGMENTS else [
                cells for cells in _tables(self.painted, self.page_height)
                # A cell is (x0, top, x1, bottom): rows start at distinct tops, columns at distinct x0s.
                if len({cell[1] for cell in cells}) >= 2 and len({cell[0] for cell in cells}) >= 2]
        return self._cells

    def _cell_text(self, cell: tuple) -> str:
        x0, top, x1, bottom = cell
        # Half-open, so a piece starting on a rule belongs to one cell, the one to its right or below.
        inside = [text for text, x, y in self.texts if x0 <= x < x1 and top <= self._down(y) < bottom]
        return " ".join("".join(inside).translate(_LIGATURES).split())

    def _down(self, y: float) -> float:
        return self.page_height - y if self.page_height else y

    # --- path operators --------------------------------------------------------------------

    def _move(self, numbers: list[float], cm: list) -> None:
        if len(numbers) >= 2:
            self._start = self._point = _place(numbers[0], numbers[1], cm)

    def _line(self, numbers: list[float], cm: list) -> None:
        if len(numbers) >= 2:
            self._segment_to(_place(numbers[0], numbers[1], cm))

    def _curve(self, numbers: list[float], cm: list) -> None:
        # c: two control points then the end; v and y: one control point then the end.
        for x, y in zip(numbers[0::2], numbers[1::2]):
            self._segment_to(_place(x, y, cm))

    def _close(self, numbers: list[float], cm: list) -> None:
        if self._start is not None:
            self._segment_to(self._start)

    def _rectangle(self, numbers: list[float], cm: list) -> None:
        if len(numbers) < 4:
            return
        x, y, width, height = numbers[:4]
        corners = [_place(x, y, cm), _place(x + width, y, cm), _place(x + width, y + height, cm),
                   _place(x, y + height, cm)]
        for a, b in zip(corners, corners[1:] + corners[:1]):
            self._path.append((*a, *b))
        self._start = self._point = corners[0]

    def _segment_to(self, point: tuple[float, float]) -> None:
        if self._point is not None:
            self._path.append((*self._point, *point))
        else:
            self._start = point
        self._point = point


_PATH_OPERATORS = {b"m": PageDrawing._move, b"l": PageDrawing._line, b"c": PageDrawing._curve,
                   b"v": PageDrawing._curve, b"y": PageDrawing._curve, b"h": PageDrawing._close,
                   b"re": PageDrawing._rectangle}


def _tables(segments: list, page_height: float) -> list[list[tuple]]:
    """pdfplumber's tables (lists of cells) from straight segments, with its default settings.
    With a page height the cells are in pdfplumber's top-down space; without, y runs upwards
    (enough to count rows and columns)."""
    from pdfplumber.table import (TableSettings, cells_to_tables, edges_to_intersections,
                                  intersections_to_cells, merge_edges)
    from pdfplumber.utils import filter_edges

    settings = TableSettings()
    edges = [edge for edge in (_edge(segment, page_height) for segment in segments) if edge is not None]
    if len(edges) < 4 or not _may_hold_grid(edges, settings):
        return []
    edges = merge_edges(filter_edges(edges, min_length=settings.edge_min_length_prefilter),
                        snap_x_tolerance=settings.snap_x_tolerance,
                        snap_y_tolerance=settings.snap_y_tolerance,
                        join_x_tolerance=settings.join_x_tolerance,
                        join_y_tolerance=settings.join_y_tolerance)
    edges = filter_edges(edges, min_length=settings.edge_min_length)
    crossings = edges_to_intersections(edges, settings.intersection_x_tolerance,
                                       settings.intersection_y_tolerance)
    return cells_to_tables(intersections_to_cells(crossings))


def _may_hold_grid(edges: list[dict], settings) -> bool:
    """Whether the edges can make two rows and two columns of cells: that takes horizontal rules at
    three or more distinct heights and vertical ones at three or more distinct places. Most pages
    draw a box or a rule or two; this spares them pdfplumber's merging, intersections and cells.
    Counted in steps of pdfplumber's snap tolerance (3 points): rules farther apart always fall in
    different steps, and pdfplumber snaps nearer ones together, so this never counts fewer places
    than pdfplumber finds. Only the pieces its first filter drops are left out, as pdfplumber joins
    the rest before it drops rules under 3 points."""
    shortest = settings.edge_min_length_prefilter
    rows = {round(edge["top"] / settings.snap_y_tolerance) for edge in edges
            if edge["orientation"] == "h" and edge["width"] >= shortest}
    columns = {round(edge["x0"] / settings.snap_x_tolerance) for edge in edges
               if edge["orientation"] == "v" and edge["height"] >= shortest}
    return len(rows) >= 3 and len(columns) >= 3


def _place(x: float, y: float, cm: tuple[float, ...]) -> tuple[float, float]:
    """A point through the current transformation matrix (six floats, converted once an operator)."""
    a, b, c, d, e, f = cm
    return a * x + c * y + e, b * x + d * y + f


def _edge(segment: tuple[float, float, float, float], page_height: float = 0.0) -> dict | None:
    """A segment as pdfplumber's edge record, when it runs along an axis; with a page height, in
    pdfplumber's space (y measured down from the top of the page)."""
    x0, y0, x1, y1 = segment
    if page_height:
        y0, y1 = page_height - y0, page_height - y1
    if abs(x0 - x1) <= AXIS_TOLERANCE:
        orientation = "v"
    elif abs(y0 - y1) <= AXIS_TOLERANCE:
        orientation = "h"
    else:
        return None
    left, right, top, bottom = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    return {"object_type": "line", "orientation": orientation, "x0": left, "x1": right,
            "top": top, "bottom": bottom, "width": right - left, "height": bottom - top}
