#!/usr/bin/env python3
"""Render docs/graphs/*.dot to SVG with Graphviz, and check that the committed SVGs are current.

    python docs/graphs/render.py             # write every *.svg beside its *.dot (make docs)
    python docs/graphs/render.py --check     # exit 1 listing every SVG out of date with its source
    python docs/graphs/render.py a.dot ...   # only these sources

"Current" means the same drawing in content, not the same bytes: the same graph title, clusters,
nodes (id, label, colours, enclosing cluster) and edges (tail->head, label, colours). Positions
and sizes are ignored, so an SVG made by another Graphviz version still matches its source.

Both sides go through one parser: the source is rendered in memory with the local `dot -Tsvg`
and that SVG is parsed exactly like the committed one. Label escapes (\\n, \\l, \\N), HTML
labels and entities are therefore resolved by Graphviz itself, never re-implemented here.
Elements drawn with style=invis leave only an XML comment in the SVG; their names are compared
too, so renaming a node or edge that only steers the layout is noticed as well.

Standard library only; `make docs` runs it with the project's virtualenv.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path

__all__ = [
    "GRAPHS_DIR",
    "Drawing",
    "Element",
    "GraphvizError",
    "Rendered",
    "check",
    "compare",
    "drawing_of_dot",
    "find_dot",
    "main",
    "parse_svg",
    "render_all",
    "render_svg",
    "sources",
]

GRAPHS_DIR = Path(__file__).resolve().parent
SVG_NS = "{http://www.w3.org/2000/svg}"

# Presentation attributes that carry the theme (colours, dashes, fonts). Coordinates, sizes of
# shapes and ids are layout and differ between Graphviz versions, so they are left out.
STYLE_ATTRIBUTES = (
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-opacity",
    "stroke-width",
    "stroke-dasharray",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
)
# Spellings of "nothing painted": Graphviz 2.x writes "transparent" where 14.x writes "none".
UNPAINTED = frozenset({"none", "transparent"})
SHAPE_TAGS = frozenset({"polygon", "polyline", "path", "ellipse", "rect", "line"})
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


class GraphvizError(RuntimeError):
    """Graphviz is missing, or refused a source file."""


@dataclass(frozen=True, order=True)
class Element:
    """One drawn thing: the graph itself, a cluster, a node or an edge."""

    kind: str  # "graph" | "cluster" | "node" | "edge"
    name: str  # the SVG <title>: graph or cluster or node id, "tail->head" for an edge
    label: tuple[str, ...]  # text lines drawn for it, in order
    style: tuple[tuple[str, str], ...]  # sorted distinct (attribute, value) pairs
    cluster: str = ""  # nodes, clusters: id of the innermost cluster drawn around it ("" = none)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass(frozen=True)
class Drawing:
    """The content of one SVG, independent of layout."""

    elements: tuple[Element, ...]
    hidden: tuple[str, ...] = ()  # names of invisible nodes/edges (only a comment in the SVG)

    def names(self, kind: str) -> list[str]:
        return sorted(e.name for e in self.elements if e.kind == kind)


@dataclass(frozen=True)
class Rendered:
    svg: str
    warnings: str = ""  # whatever dot printed on stderr for a successful render


@dataclass
class _Box:
    x0: float = float("inf")
    y0: float = float("inf")
    x1: float = float("-inf")
    y1: float = float("-inf")
    points: int = 0

    def add(self, x: float, y: float) -> None:
        self.x0, self.y0 = min(self.x0, x), min(self.y0, y)
        self.x1, self.y1 = max(self.x1, x), max(self.y1, y)
        self.points += 1

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


# --- Graphviz ----------------------------------------------------------------------------------


def find_dot() -> str:
    """The path of Graphviz `dot`, or a GraphvizError saying how to install it."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizError(
            "Graphviz `dot` was not found on PATH, and it is needed to render docs/graphs/*.dot; "
            "run `make graphviz` (installs the graphviz package with apt-get), then retry."
        )
    return dot


def render_svg(source: Path, dot: str | None = None) -> Rendered:
    """Render one .dot file to SVG text in memory; GraphvizError when dot refuses it."""
    dot = dot or find_dot()
    try:
        done = subprocess.run(
            [dot, "-Tsvg", str(source)], capture_output=True, text=True, check=False, timeout=60
        )
    except subprocess.TimeoutExpired as e:
        raise GraphvizError(f"`dot -Tsvg {source}` did not finish within 60 s") from e
    if done.returncode != 0 or not done.stdout.strip():
        raise GraphvizError(
            f"`dot -Tsvg {source}` failed (exit {done.returncode}): "
            f"{done.stderr.strip() or 'no output'}; fix the source and run `make docs` again."
        )
    return Rendered(svg=done.stdout, warnings=done.stderr.strip())


def sources(directory: Path = GRAPHS_DIR) -> list[Path]:
    """Every diagram source in `directory`, sorted."""
    return sorted(directory.glob("*.dot"))


def render_all(paths: Iterable[Path], dot: str | None = None) -> list[Path]:
    """Write <name>.svg beside every <name>.dot; return the SVG paths written."""
    dot = dot or find_dot()
    written = []
    for source in paths:
        rendered = render_svg(source, dot)
        if rendered.warnings:
            print(f"{source.name}: {rendered.warnings}", file=sys.stderr)
        target = source.with_suffix(".svg")
        target.write_text(rendered.svg, encoding="utf-8")
        written.append(target)
    return written


# --- SVG -> Drawing ----------------------------------------------------------------------------


def _local(tag: object) -> str:
    return tag.removeprefix(SVG_NS) if isinstance(tag, str) else ""


def _descendants(element: ET.Element) -> Iterator[ET.Element]:
    for child in element.iter():
        if child is not element and isinstance(child.tag, str):
            yield child


def _title(element: ET.Element) -> str:
    title = element.find(f"{SVG_NS}title")
    return (title.text or "").strip() if title is not None else ""


def _texts(elements: Iterable[ET.Element]) -> tuple[str, ...]:
    lines = ("".join(e.itertext()).strip() for e in elements if _local(e.tag) == "text")
    return tuple(line for line in lines if line)


def _style(elements: Iterable[ET.Element]) -> tuple[tuple[str, str], ...]:
    """Distinct theme attributes; a text's are prefixed "text " (its fill is the font colour)."""
    found = set()
    for e in elements:
        prefix = "text " if _local(e.tag) == "text" else ""
        for attribute in STYLE_ATTRIBUTES:
            value = e.get(attribute)
            if value is not None and value.strip().lower() not in UNPAINTED:
                found.add((prefix + attribute, value.strip()))
    return tuple(sorted(found))


def _box(elements: Iterable[ET.Element]) -> _Box:
    """Bounding box of the shapes among `elements` (text positions when there is no shape)."""
    shapes, texts = _Box(), _Box()
    for e in elements:
        tag = _local(e.tag)
        if tag == "text":
            texts.add(float(e.get("x", "0")), float(e.get("y", "0")))
        elif tag == "ellipse":
            cx, cy = float(e.get("cx", "0")), float(e.get("cy", "0"))
            rx, ry = float(e.get("rx", "0")), float(e.get("ry", "0"))
            shapes.add(cx - rx, cy - ry)
            shapes.add(cx + rx, cy + ry)
        elif tag in SHAPE_TAGS:
            numbers = [float(n) for n in NUMBER.findall(e.get("points") or e.get("d") or "")]
            for x, y in zip(numbers[0::2], numbers[1::2], strict=False):
                shapes.add(x, y)
    return shapes if shapes.points else texts


def parse_svg(text: str) -> Drawing:
    """Read the content of a Graphviz SVG: clusters, nodes, edges, labels, colours."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    try:
        root = ET.fromstring(text, parser=parser)
    except ET.ParseError as e:
        raise GraphvizError(f"not a readable SVG: {e}") from e
    graph = next((g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "graph"), None)
    if graph is None:
        raise GraphvizError('not a Graphviz SVG: no <g class="graph"> element')

    elements: list[Element] = []
    clusters: list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = []
    hidden: list[str] = []
    cluster_boxes: dict[str, _Box] = {}
    node_parts: list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], _Box]] = []
    top_level = [c for c in graph if isinstance(c.tag, str) and _local(c.tag) != "g"]
    elements.append(Element("graph", _title(graph), _texts(top_level), _style(top_level)))

    pending_comment: str | None = None  # Graphviz writes <!-- name --> before each node/edge
    for child in graph:
        tag: object = child.tag  # the ET.Comment factory itself for a comment, else a str
        if tag is ET.Comment:
            if pending_comment is not None:
                hidden.append(pending_comment)  # a comment with no drawing: style=invis
            pending_comment = unescape((child.text or "").strip())
            continue
        kind = child.get("class") if _local(child.tag) == "g" else None
        if kind not in ("cluster", "node", "edge"):
            continue
        pending_comment = None
        parts = list(_descendants(child))
        name, label, style = _title(child), _texts(parts), _style(parts)
        if kind == "cluster":
            cluster_boxes[name] = _box(parts)
            clusters.append((name, label, style))
        elif kind == "node":
            node_parts.append((name, label, style, _box(parts)))
        else:
            elements.append(Element("edge", name, label, style))
    if pending_comment is not None:
        hidden.append(pending_comment)

    def innermost(box: _Box, exclude: str = "") -> str:
        """The smallest cluster drawn around `box` (dot keeps non-members out of a cluster)."""
        x, y = box.centre
        around = [
            (b.area, c)
            for c, b in cluster_boxes.items()
            if c != exclude and b.contains(x, y) and b.area > box.area
        ]
        return min(around)[1] if around else ""

    for name, label, style in clusters:
        elements.append(
            Element("cluster", name, label, style, innermost(cluster_boxes[name], name))
        )
    for name, label, style, box in node_parts:
        elements.append(Element("node", name, label, style, innermost(box)))
    return Drawing(tuple(sorted(elements)), tuple(sorted(hidden)))


def drawing_of_dot(source: Path, dot: str | None = None) -> Drawing:
    """The content a .dot file draws, as rendered by the local Graphviz."""
    return parse_svg(render_svg(source, dot).svg)


# --- comparison --------------------------------------------------------------------------------


def _describe(element: Element) -> str:
    return f"{element.kind} {element.name!r}"


def _differences(want: Element, have: Element) -> Iterator[str]:
    what = _describe(want)
    if want.label != have.label:
        yield f"{what}: label {list(have.label)} in the SVG, {list(want.label)} in the source"
    if want.cluster != have.cluster:
        yield (
            f"{what}: drawn in cluster {have.cluster or '(none)'!r} in the SVG, "
            f"in {want.cluster or '(none)'!r} in the source"
        )
    if want.style != have.style:
        only_svg = sorted(set(have.style) - set(want.style))
        only_src = sorted(set(want.style) - set(have.style))
        yield f"{what}: style {only_svg} in the SVG, {only_src} in the source"


def compare(source: Drawing, svg: Drawing) -> list[str]:
    """Human-readable differences between what a source draws and what an SVG shows."""
    want: dict[tuple[str, str], list[Element]] = defaultdict(list)
    have: dict[tuple[str, str], list[Element]] = defaultdict(list)
    for e in source.elements:
        want[e.key].append(e)
    for e in svg.elements:
        have[e.key].append(e)

    problems: list[str] = []
    for key in sorted(want.keys() | have.keys()):
        wanted, shown = sorted(want.get(key, [])), sorted(have.get(key, []))
        what = f"{key[0]} {key[1]!r}"
        if not shown:
            problems.append(f"{what} is in the source but not in the SVG")
        elif not wanted:
            problems.append(f"{what} is in the SVG but no longer in the source")
        elif len(wanted) != len(shown):
            problems.append(
                f"{what} is drawn {len(shown)} times in the SVG, {len(wanted)} in the source"
            )
        else:
            for w, h in zip(wanted, shown, strict=True):
                problems.extend(_differences(w, h))
    for name in sorted(set(source.hidden) ^ set(svg.hidden)):
        where = "source" if name in source.hidden else "SVG"
        problems.append(f"invisible element {name!r} is only in the {where}")
    return problems


def check(paths: Sequence[Path], dot: str | None = None) -> list[str]:
    """Problems with the committed SVGs of `paths`, each prefixed by its file name.

    A source that does not render, a missing SVG, an SVG whose content differs from its source,
    and an SVG with no .dot beside it (in the directories checked) all count.
    """
    dot = dot or find_dot()
    problems: list[str] = []
    for source in paths:
        svg_path = source.with_suffix(".svg")
        try:
            want = drawing_of_dot(source, dot)
        except GraphvizError as e:
            problems.append(f"{source.name}: {e}")
            continue
        if not svg_path.exists():
            problems.append(f"{svg_path.name}: missing; run `make docs` and commit it")
            continue
        try:
            have = parse_svg(svg_path.read_text(encoding="utf-8"))
        except GraphvizError as e:
            problems.append(f"{svg_path.name}: {e}")
            continue
        problems.extend(f"{svg_path.name}: {p}" for p in compare(want, have))
    for directory in {p.parent for p in paths}:
        for svg_path in sorted(directory.glob("*.svg")):
            if not svg_path.with_suffix(".dot").exists():
                problems.append(f"{svg_path.name}: no {svg_path.stem}.dot source beside it")
    return problems


# --- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Render docs/graphs/*.dot to SVG with Graphviz dot, or check the SVGs."
    )
    parser.add_argument(
        "sources",
        nargs="*",
        type=Path,
        help=f"the .dot files (default: every *.dot in {GRAPHS_DIR})",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when an SVG is out of date"
    )
    args = parser.parse_args(argv)
    paths: list[Path] = args.sources or sources()
    if not paths:
        print(f"no *.dot files in {GRAPHS_DIR}", file=sys.stderr)
        return 2
    try:
        if args.check:
            problems = check(paths)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("SVGs are out of date with their sources: run `make docs`", file=sys.stderr)
                return 1
            print(f"{len(paths)} diagram(s) match their sources")
            return 0
        for written in render_all(paths):
            print(f"wrote {written}")
        return 0
    except GraphvizError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
