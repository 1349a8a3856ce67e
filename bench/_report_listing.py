"""The report's lean-listing sections (issue 12): listing methods per N, and the CPU share.

Records read (one run, one machine and backend, so every ratio compares like with like):

* ``server-floor`` / ``obstore`` (`bench.test_baselines_bench.test_listing_baselines`): the
  same ListObjectsV2 pages fetched raw and not parsed, and obstore's list; wall and
  ``cpu_s_median``;
* ``list-<method>`` (`bench.test_listing_bench`): paginator, paginator-iso, lean,
  raw-aiobotocore;
* ``floor``: round 1's listing floor, which is botocore's paginator;
* ``handler`` (``presigner="fast"``: the function as shipped, lean lister) and
  ``handler-lister-botocore`` (`bench.test_handler_bench.test_handler_end_to_end`);
* ``cpu_share_lister`` (`bench.test_handler_bench.test_handler_cpu_share_by_lister`): warm
  Duration at 128 and 512 MB with each lister, under Lambda's CPU share;
* the cold import record (``ratio_to_aioboto3``), reported without an aim.

Each section is ``[]`` when the run has none of its records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench._results import Aim, Record, find

__all__ = ["aim_lines", "cpu_share_lister_section", "listing_aims", "listing_section"]

SERVER_FLOOR_RATIO = 1.3  # handler wall / server floor wall, at 10k and 100k
CPU_PER_10K = 0.2  # handler CPU seconds per 10,000 objects
SHARE_SPEEDUP = 3.0  # LISTER=botocore / lean warm Duration at 128 MB
AIM_COUNTS = (10_000, 100_000)

# (row label, match): what each row of the per-N table is, fastest-to-build first.
ROWS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("server floor: raw GETs (aiohttp), not parsed", {"kind": "server-floor"}),
    ("raw GETs over aiobotocore's HTTP session", {"kind": "list-raw-aiobotocore"}),
    ("obstore (Rust), list only", {"kind": "obstore"}),
    ("lean listing (`LISTER=fast`), list only", {"kind": "list-lean"}),
    ("botocore paginator + fromisoformat hook", {"kind": "list-paginator-iso"}),
    ("botocore paginator (`LISTER=botocore`)", {"kind": "list-paginator"}),
    ("round 1 listing floor (botocore paginator)", {"kind": "floor"}),
    ("**handler**, lean lister (as shipped)", {"kind": "handler", "presigner": "fast"}),
    ("handler, `LISTER=botocore`", {"kind": "handler-lister-botocore"}),
)
_ROUND2 = ("server-floor", "obstore", "handler-lister-botocore")
_SHARE_AIM = "at 128 MB's CPU share"


def _one(records: Sequence[Record], **match: Any) -> Record | None:
    found = find(records, **match)
    return found[0] if found else None


def _is_round2(r: Record) -> bool:
    kind = str(r.get("kind", ""))
    return kind in _ROUND2 or kind.startswith("list-")


def aim_lines(aims: Sequence[Aim]) -> list[str]:
    """A section's own aims as a table (the same columns as the report's Aims table)."""
    if not aims:
        return []
    lines = ["| | aim | target | measured |", "| --- | --- | --- | --- |"]
    return [*lines, *(f"| {a.mark} | {a.name} | {a.target} | {a.measured} |" for a in aims), ""]


def _wall_aim(records: Sequence[Record], n: int) -> Aim:
    handler = _one(records, kind="handler", n=n, presigner="fast")
    floor = _one(records, kind="server-floor", n=n)
    name = f"handler within {SERVER_FLOOR_RATIO}x of the server floor at {n:,} objects"
    target = f"handler / server floor <= {SERVER_FLOOR_RATIO:.2f}"
    if not (handler and floor):
        missing = "handler" if floor else "server floor"
        return Aim(name, target, f"no data ({missing} not in this run)", None)
    ratio = handler["median_s"] / floor["median_s"]
    measured = f"{handler['median_s']:.3f} s / {floor['median_s']:.3f} s = {ratio:.2f}x"
    return Aim(name, target, measured, ratio <= SERVER_FLOOR_RATIO)


def _cpu_aim(records: Sequence[Record], n: int) -> Aim:
    handler = _one(records, kind="handler", n=n, presigner="fast")
    name = f"handler CPU <= {CPU_PER_10K} CPU-s per 10,000 objects at {n:,}"
    target = f"CPU-s x 10,000 / N <= {CPU_PER_10K}"
    if not handler or handler.get("cpu_s_median") is None:
        return Aim(name, target, "no data (no handler CPU figure)", None)
    per_10k = handler["cpu_s_median"] * 10_000 / n
    measured = f"{handler['cpu_s_median']:.3f} CPU-s = {per_10k:.3f} per 10,000"
    return Aim(name, target, measured, per_10k <= CPU_PER_10K)


def _obstore_aim(records: Sequence[Record], n: int) -> Aim:
    handler = _one(records, kind="handler", n=n, presigner="fast")
    obstore = _one(records, kind="obstore", n=n)
    name = f"handler faster than obstore's list alone at {n:,} objects"
    if not (handler and obstore):
        return Aim(name, "handler wall < obstore wall", "no data", None)
    h, o = handler["median_s"], obstore["median_s"]
    return Aim(name, "handler wall < obstore wall", f"{h:.3f} s vs {o:.3f} s ({h / o:.2f}x)", h < o)


def _share_aim(records: Sequence[Record]) -> Aim:
    lean = _one(records, kind="cpu_share_lister", memory_mb=128, lister="fast")
    slow = _one(records, kind="cpu_share_lister", memory_mb=128, lister="botocore")
    name = f"{_SHARE_AIM}, lean lister >= {SHARE_SPEEDUP:.0f}x faster than botocore's"
    target = f"`LISTER=botocore` / lean warm Duration >= {SHARE_SPEEDUP:.1f}"
    if not (lean and slow):
        return Aim(name, target, "no data", None)
    a, b = slow["duration_ms_median"], lean["duration_ms_median"]
    measured = f"{a / 1000:.2f} s / {b / 1000:.2f} s = {a / b:.1f}x ({lean['n']:,} objects)"
    return Aim(name, target, measured, a / b >= SHARE_SPEEDUP)


def listing_aims(records: Sequence[Record]) -> list[Aim]:
    """Issue 12's aims (the CPU-share one included); [] when the run has none of its records."""
    aims = []
    if any(_is_round2(r) for r in records):
        for n in AIM_COUNTS:
            at_n = [r for r in records if r.get("n") == n and _is_round2(r)]
            if n != AIM_COUNTS[0] and not at_n:
                continue  # 100k: only when this run has that point
            aims += [_wall_aim(records, n), _cpu_aim(records, n), _obstore_aim(records, n)]
    if find(records, kind="cpu_share_lister"):
        aims.append(_share_aim(records))
    return aims


def _cell_s(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f} s"


def _table(records: Sequence[Record], n: int) -> list[str]:
    floor = _one(records, kind="server-floor", n=n)
    base = floor["median_s"] if floor else None
    lines = [
        f"**{n:,} objects**",
        "",
        "| method | wall (median) | CPU-s | vs server floor |",
        "| --- | --- | --- | --- |",
    ]
    for label, match in ROWS:
        r = _one(records, n=n, **match)
        if r is None:
            continue
        ratio = "–" if not base else f"{r['median_s'] / base:.2f}x"
        if base and r.get("kind") == "handler":
            ratio = f"**{ratio}**"
        cpu = r.get("cpu_s_median")
        lines.append(
            f"| {label} | {_cell_s(r['median_s'])} | "
            f"{'–' if cpu is None else f'{cpu:.3f}'} | {ratio} |"
        )
    return [*lines, ""]


def _init_line(records: Sequence[Record]) -> list[str]:
    r = next((r for r in records if r.get("ratio_to_aioboto3")), None)
    if r is None:
        return []
    return [
        f"Cold INIT (reported, no aim): importing the function costs "
        f"{r['import_ms_over_interpreter']:.0f} ms over a bare interpreter, "
        f"**{r['ratio_to_aioboto3']:.2f}x** aioboto3's own {r['aioboto3_ms_over_interpreter']:.0f} "
        "ms (fresh interpreter per round).",
        "",
    ]


def listing_section(records: Sequence[Record]) -> list[str]:
    """Listing methods per N against the server floor, and issue 12's aims."""
    if not any(_is_round2(r) for r in records):
        return []
    counts = sorted({r["n"] for r in records if _is_round2(r)})
    lines = [
        "## Listing methods (issue 12)",
        "",
        "Wall time (median) and CPU seconds of this process per full listing of the prefix.",
        "Server floor: the same ListObjectsV2 pages, signed, over HTTP keep-alive, read and",
        "not parsed: no client lists faster than the server answers them.",
        "Round 1's \"listing floor\" is botocore's `list_objects_v2` paginator, not this floor.",
        "Handler rows: the whole function (list, presign, spool, upload), warm, whole machine.",
        "",
    ]
    for n in counts:
        lines += _table(records, n)
    aims = [a for a in listing_aims(records) if not a.name.startswith(_SHARE_AIM)]
    lines += ["Aims of issue 12 (the CPU-share one is in the next section):", ""]
    return [*lines, *aim_lines(aims), *_init_line(records)]


def cpu_share_lister_section(records: Sequence[Record]) -> list[str]:
    """Warm Duration with each lister at each memory setting's CPU share."""
    points = find(records, kind="cpu_share_lister")
    if not points:
        return []
    n = points[0]["n"]
    modes = sorted({str(r.get("cpu_mode", "?")) for r in points})
    lines = [
        f"## Lean listing under the CPU share ({n:,} objects)",
        "",
        "The real handler in a fresh process per cell, handler threads limited to memory / 1769",
        "vCPU; after INIT and a no-op cold invocation, warm runs (1 at 128 MB, 2 at 512 MB).",
        f"CPU mode: **{', '.join(modes)}**.",
        "",
    ]
    if not all(m.startswith("cgroup") for m in modes):
        lines += ["**CPU NOT LIMITED** on this run: these are the machine's durations.", ""]
    lines += [
        "| memory | vCPU | lean (`LISTER=fast`) | `LISTER=botocore` | botocore / lean |",
        "| --- | --- | --- | --- | --- |",
    ]
    for mb in sorted({r["memory_mb"] for r in points}):
        lean = _one(points, memory_mb=mb, lister="fast")
        slow = _one(points, memory_mb=mb, lister="botocore")
        vcpus = next((r.get("vcpus") for r in (lean, slow) if r), None)
        a = lean["duration_ms_median"] / 1000 if lean else None
        b = slow["duration_ms_median"] / 1000 if slow else None
        ratio = f"**{b / a:.1f}x**" if a and b else "–"
        lines.append(
            f"| {mb:,} MB | {'full' if vcpus is None else f'{vcpus:.3f}'} | {_cell_s(a)} | "
            f"{_cell_s(b)} | {ratio} |"
        )
    return [*lines, "", *aim_lines([_share_aim(records)])]
