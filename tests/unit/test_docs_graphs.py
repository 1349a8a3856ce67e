"""docs/graphs: every .dot renders, and every committed .svg is current with its source.

"Current" is about content (clusters, node ids, edges, labels, colours), not layout, so an SVG
made by another Graphviz version still passes. These tests run Graphviz `dot`; `make test`
installs it (`make graphviz`).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

GRAPHS_DIR = Path(__file__).resolve().parents[2] / "docs" / "graphs"
SOURCES = sorted(GRAPHS_DIR.glob("*.dot"))
DIAGRAMS = ("system_overview", "sandbox_lifecycle", "invocation_timeline")

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz `dot` is not installed; run `make graphviz` (make test installs it)",
)


@pytest.fixture(scope="module")
def render() -> Iterator[ModuleType]:
    """docs/graphs/render.py as a module (it is a script, not part of a package)."""
    name = "_docs_graphs_render"
    spec = importlib.util.spec_from_file_location(name, GRAPHS_DIR / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def copy_diagram(tmp_path: Path, name: str = "system_overview") -> tuple[Path, Path]:
    """A copy of a committed diagram (source and SVG) that a test may change."""
    dot, svg = tmp_path / f"{name}.dot", tmp_path / f"{name}.svg"
    shutil.copyfile(GRAPHS_DIR / f"{name}.dot", dot)
    shutil.copyfile(GRAPHS_DIR / f"{name}.svg", svg)
    return dot, svg


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name} any more; update this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_diagrams_the_readme_shows_all_have_a_source_and_an_svg() -> None:
    for name in DIAGRAMS:
        assert (GRAPHS_DIR / f"{name}.dot").is_file()
        assert (GRAPHS_DIR / f"{name}.svg").is_file(), f"run `make docs` to render {name}.svg"


@needs_dot
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_dot_source_renders_without_warnings(render: ModuleType, source: Path) -> None:
    rendered = render.render_svg(source)
    assert rendered.warnings == ""
    drawing = render.parse_svg(rendered.svg)
    assert drawing.names("node"), f"{source.name} draws no nodes"


@needs_dot
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_committed_svg_shows_what_its_source_draws(render: ModuleType, source: Path) -> None:
    svg = source.with_suffix(".svg")
    assert svg.is_file(), f"{svg.name} is missing: run `make docs` and commit it"
    differences = render.compare(
        render.drawing_of_dot(source), render.parse_svg(svg.read_text(encoding="utf-8"))
    )
    assert differences == [], f"{svg.name} is out of date; run `make docs`"


@needs_dot
def test_the_check_passes_for_the_committed_diagrams(render: ModuleType) -> None:
    assert render.check(SOURCES) == []
    assert render.main(["--check"]) == 0


def test_every_committed_svg_has_a_dot_source() -> None:
    orphans = [p.name for p in GRAPHS_DIR.glob("*.svg") if not p.with_suffix(".dot").exists()]
    assert orphans == []


def test_the_overview_keeps_the_design_clusters_and_nodes(render: ModuleType) -> None:
    # The design (../shared/seed/system_overview.svg) as parsed by render.parse_svg: nodes may be
    # renamed with the code, but a rename must be deliberate, so this list changes with it.
    drawing = render.parse_svg((GRAPHS_DIR / "system_overview.svg").read_text(encoding="utf-8"))
    assert drawing.names("cluster") == [
        "cluster_async",
        "cluster_caller",
        "cluster_lambda",
        "cluster_storage",
    ]
    assert drawing.names("node") == sorted(
        ["invoke", "handler", "producer", "queue", "consumer", "tmp", "minio", "bucket", "response"]
    )
    assert len(drawing.names("edge")) == 11
    assert drawing.hidden == ("minio->bucket",)


@needs_dot
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "  minio -> bucket [style=invis];",
            '  minio -> bucket [style=invis];\n  extra [label="extra"];\n  handler -> extra;',
            ["node 'extra' is in the source", "edge 'handler->extra' is in the source"],
            id="added node and edge",
        ),
        pytest.param(
            " bucket [",
            " reports [",
            [
                "node 'bucket' is in the SVG but no longer in the source",
                "node 'reports' is in the source but not in the SVG",
                "invisible element 'minio->bucket' is only in the SVG",
            ],
            id="renamed node",
        ),
        pytest.param(
            'label="spawn task"];\n  producer',
            'label="create_task"];\n  producer',
            ["edge 'handler->consumer': label ['spawn task'] in the SVG, ['create_task']"],
            id="changed edge label",
        ),
        pytest.param(
            'fillcolor="#1a3a1a"',
            'fillcolor="#3a1a1a"',
            ["node 'minio': style [('fill', '#1a3a1a')] in the SVG, [('fill', '#3a1a1a')]"],
            id="changed colour",
        ),
        pytest.param(
            'label="Object storage"',
            'label="S3"',
            ["cluster 'cluster_storage': label ['Object storage'] in the SVG, ['S3']"],
            id="renamed cluster title",
        ),
        pytest.param(
            "minio -> bucket [style=invis]",
            "minio -> response [style=invis]",
            ["invisible element 'minio->bucket' is only in the SVG"],
            id="changed invisible edge",
        ),
    ],
)
def test_the_check_reports_an_svg_older_than_its_source(
    render: ModuleType, tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    dot, _svg = copy_diagram(tmp_path)
    assert render.check([dot]) == []
    edit(dot, old, new)

    problems = render.check([dot])

    for fragment in expected:
        assert any(fragment in p for p in problems), f"{fragment!r} not in {problems}"


@needs_dot
def test_the_check_reports_a_node_moved_to_another_cluster(
    render: ModuleType, tmp_path: Path
) -> None:
    dot, _svg = copy_diagram(tmp_path)
    text = dot.read_text(encoding="utf-8")
    tmp_node = re.search(r"\n    tmp \[.*?\];\n", text, re.S)
    assert tmp_node is not None
    # Take `tmp` out of cluster_lambda and declare it at the top level instead.
    text = text.replace(tmp_node.group(0), "\n")
    dot.write_text(text.replace("\n  response [", tmp_node.group(0) + "  response [", 1))

    problems = render.check([dot])

    assert any("node 'tmp': drawn in cluster 'cluster_lambda' in the SVG" in p for p in problems)


@needs_dot
def test_an_svg_with_another_layout_still_counts_as_current(
    render: ModuleType, tmp_path: Path
) -> None:
    # What another Graphviz version changes: coordinates, sizes, the version comment and
    # attributes such as xml:space. None of it is content.
    dot, svg = copy_diagram(tmp_path)
    original = text = svg.read_text(encoding="utf-8")
    text = re.sub(
        r' (points|d|x|y|cx|cy)="([^"]*)"',
        lambda m: (
            f' {m.group(1)}="'
            + re.sub(
                r"-?\d+(?:\.\d+)?", lambda n: f"{float(n.group(0)) * 1.07 + 3:.2f}", m.group(2)
            )
            + '"'
        ),
        text,
    )
    text = text.replace("<text ", '<text xml:space="preserve" ').replace(
        "graphviz version", "graphviz version 99.0 was"
    )
    svg.write_text(text, encoding="utf-8")

    assert text != original
    assert render.check([dot]) == []


@needs_dot
def test_a_source_dot_cannot_render_is_reported_by_name(render: ModuleType, tmp_path: Path) -> None:
    broken = tmp_path / "broken.dot"
    broken.write_text("digraph broken { a -> ; }\n", encoding="utf-8")

    with pytest.raises(render.GraphvizError, match=r"broken\.dot"):
        render.render_svg(broken)
    assert any(p.startswith("broken.dot: ") for p in render.check([broken]))


@needs_dot
def test_an_svg_without_a_source_and_a_source_without_an_svg_are_reported(
    render: ModuleType, tmp_path: Path
) -> None:
    dot, svg = copy_diagram(tmp_path)
    svg.rename(tmp_path / "renamed.svg")

    problems = render.check([dot])

    assert "system_overview.svg: missing; run `make docs` and commit it" in problems
    assert "renamed.svg: no renamed.dot source beside it" in problems


@needs_dot
def test_the_command_line_check_exits_1_listing_the_differences(
    render: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dot, _svg = copy_diagram(tmp_path)
    edit(dot, 'label="Caller"', 'label="Callers"')

    assert render.main(["--check", str(dot)]) == 1
    err = capsys.readouterr().err
    assert "system_overview.svg: cluster 'cluster_caller': label ['Caller']" in err
    assert "run `make docs`" in err


@needs_dot
def test_rendering_writes_an_svg_beside_the_source_that_then_passes_the_check(
    render: ModuleType, tmp_path: Path
) -> None:
    dot, svg = copy_diagram(tmp_path)
    edit(dot, 'label="Caller"', 'label="Callers"')
    assert render.check([dot]) != []

    assert render.main([str(dot)]) == 0

    assert "Callers" in svg.read_text(encoding="utf-8")
    assert render.check([dot]) == []


def test_a_missing_dot_says_to_run_make_graphviz(
    render: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # restored by monkeypatch after the test

    with pytest.raises(render.GraphvizError, match="make graphviz"):
        render.find_dot()
    assert render.main(["--check"]) == 1
