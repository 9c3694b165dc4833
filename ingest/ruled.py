"""Which PDF pages could hold a ruled table, from the lines the page draws.

pdfplumber finds a table from the ruling lines a page draws, but to know them it has pdfminer
lay out every object of the page, characters included: on the nine NHS PDFs that layout was 25 s
of a 27 s table pass, for 51 tables on 187 pages. The lines themselves are cheap: pypdf's text
pass already walks every operator of the page (ingest/loaders.py), rectangles and line segments
included. This module collects those segments and asks pdfplumber's own table geometry (its
edge merging, intersections and cells, with its default settings) whether they form a grid of at
least two cells. Only such pages go to pdfplumber.

The check errs towards reading a page: segments are kept whether or not they are painted (a
clipping rectangle counts), and a curve's control points count as corners. A page with more
segments than a drawing of tables plausibly needs (a chart or map) is read without the check.
"""
from __future__ import annotations

# Past this many segments (a chart, a map, a logo traced in lines) the cell check would cost
# more than it saves: the page goes to pdfplumber as before.
MAX_SEGMENTS = 5000
# Below this a segment is taken as straight along the axis (PDF units, 1/72 inch).
AXIS_TOLERANCE = 0.01


class PageDrawing:
    """Straight segments one page draws, fed by pypdf's operator visitor (``visit``), in page
    units (the current transformation applied)."""

    def __init__(self) -> None:
        self.segments: list[tuple[float, float, float, float]] = []
        self._start: tuple[float, float] | None = None
        self._point: tuple[float, float] | None = None

    def visit(self, operator: bytes, operands: list, cm: list) -> None:
        if operator not in _PATH_OPERATORS:
            return
        try:
            numbers = [float(value) for value in operands]
        except (TypeError, ValueError):  # a malformed operator: nothing drawn we can place
            return
        _PATH_OPERATORS[operator](self, numbers, cm)

    def may_hold_table(self) -> bool:
        """Whether the segments form a grid of at least two rows and two columns of cells, as
        pdfplumber reckons cells and groups them into tables (a lone box or a rule is no table)."""
        if len(self.segments) > MAX_SEGMENTS:
            return True
        edges = [edge for edge in map(_edge, self.segments) if edge is not None]
        if len(edges) < 4:
            return False
        from pdfplumber.table import (TableSettings, cells_to_tables, edges_to_intersections,
                                      intersections_to_cells, merge_edges)
        from pdfplumber.utils import filter_edges

        settings = TableSettings()
        edges = merge_edges(filter_edges(edges, min_length=settings.edge_min_length_prefilter),
                            snap_x_tolerance=settings.snap_x_tolerance,
                            snap_y_tolerance=settings.snap_y_tolerance,
                            join_x_tolerance=settings.join_x_tolerance,
                            join_y_tolerance=settings.join_y_tolerance)
        edges = filter_edges(edges, min_length=settings.edge_min_length)
        crossings = edges_to_intersections(edges, settings.intersection_x_tolerance,
                                           settings.intersection_y_tolerance)
        tables = cells_to_tables(intersections_to_cells(crossings))
        # A cell is (x0, top, x1, bottom): rows start at distinct tops, columns at distinct x0s.
        return any(len({cell[1] for cell in cells}) >= 2 and len({cell[0] for cell in cells}) >= 2
                   for cells in tables)

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
            self.segments.append((*a, *b))
        self._start = self._point = corners[0]

    def _segment_to(self, point: tuple[float, float]) -> None:
        if self._point is not None:
            self.segments.append((*self._point, *point))
        else:
            self._start = point
        self._point = point


_PATH_OPERATORS = {b"m": PageDrawing._move, b"l": PageDrawing._line, b"c": PageDrawing._curve,
                   b"v": PageDrawing._curve, b"y": PageDrawing._curve, b"h": PageDrawing._close,
                   b"re": PageDrawing._rectangle}


def _place(x: float, y: float, cm: list) -> tuple[float, float]:
    a, b, c, d, e, f = (float(value) for value in cm)
    return a * x + c * y + e, b * x + d * y + f


def _edge(segment: tuple[float, float, float, float]) -> dict | None:
    """A segment as pdfplumber's edge record, when it runs along an axis."""
    x0, y0, x1, y1 = segment
    if abs(x0 - x1) <= AXIS_TOLERANCE:
        orientation = "v"
    elif abs(y0 - y1) <= AXIS_TOLERANCE:
        orientation = "h"
    else:
        return None
    left, right, top, bottom = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    return {"object_type": "line", "orientation": orientation, "x0": left, "x1": right,
            "top": top, "bottom": bottom, "width": right - left, "height": bottom - top}
