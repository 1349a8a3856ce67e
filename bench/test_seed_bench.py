"""Seeding speed: PDF generation (ours vs pypdf) and uploads (concurrent vs sequential boto3).

    .venv/bin/python -m pytest bench/test_seed_bench.py --benchmark-only --benchmark-group-by=group

* ``pdf-generation``: one round makes ``PDF_BATCH`` report PDFs on one core (no I/O);
  ``extra_info["pdfs_per_second"]``. The pypdf entry builds the same pages with pypdf's writer
  (the general-purpose library already installed) for comparison.
* ``upload``: ``UPLOAD_COUNT`` PDFs to the ``s3_sandbox`` backend(s), once with
  :func:`seed.seed_bucket` (aioboto3, bounded concurrency) and once with a plain sequential
  ``boto3.put_object`` loop making the same bodies; the concurrent entry records
  ``objects_per_second`` and ``ratio_vs_sequential`` from the same run. Both clients use the
  same botocore config (path-style, SigV4, checksums only when required).
* ``upload-methods``: ``METHODS_COUNT`` (10,000) small PDFs three ways in one run on a MinIO
  backend: MinIO snowball tars (:mod:`seed.snowball`, verified by listing), concurrent PUTs and a
  sequential ``boto3`` loop; ``extra_info`` has each rate and the ratios against both PUTs.
* ``memory``: peak RSS of ``python -m seed`` in a child process for a small and a large count
  (``--full``: 100,000), to show memory stays bounded: only the key lists grow.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
from typing import Any

import boto3
import pytest

from seed import SeedOptions, SizeRange, seed_bucket
from seed.content import build_pools, date_range_for, make_report, report_lines
from seed.documents import DocumentFactory
from seed.plan import Plan
from seed.upload import client_config

PDF_BATCH = 2000
PYPDF_BATCH = 200
UPLOAD_COUNT = 1000
DEFAULT_SIZES = SeedOptions().sizes

_rates: dict[str, float] = {}


def _pdfs(count: int, sizes: SizeRange) -> tuple[DocumentFactory, list[Any]]:
    options = SeedOptions(count=count, noise=0, sizes=sizes)
    return DocumentFactory(options.seed, sizes), list(Plan(options).specs())


@pytest.mark.benchmark(group="pdf-generation")
@pytest.mark.parametrize(
    "sizes",
    [DEFAULT_SIZES, SizeRange(4096, 4096), SizeRange(1 << 20, 1 << 20)],
    ids=["default-4-96KiB", "4KiB", "1MiB"],
)
def test_pdf_generation_rate_of_the_template_writer(benchmark: Any, sizes: SizeRange) -> None:
    factory, specs = _pdfs(PDF_BATCH, sizes)

    def make_all() -> int:
        return sum(len(factory.pdf(spec)) for spec in specs)

    total = benchmark(make_all)
    rate = PDF_BATCH / benchmark.stats.stats.mean
    _rates[f"template-{sizes}"] = rate
    benchmark.extra_info.update(
        pdfs_per_second=round(rate), mean_kib=round(total / PDF_BATCH / 1024, 1)
    )


@pytest.mark.benchmark(group="pdf-generation")
def test_pdf_generation_rate_of_pypdf_for_comparison(benchmark: Any) -> None:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    from seed.pdf import _content_stream

    pools = build_pools(42)
    reports = [
        make_report(
            pools, random.Random(i), report_id=f"RPT-{i}", kind=i, dates=date_range_for("2026/04/")
        )
        for i in range(PYPDF_BATCH)
    ]

    def font(base: str) -> DictionaryObject:
        return DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject(base),
            }
        )

    def make_all() -> int:
        total = 0
        for report in reports:
            writer = PdfWriter()
            fonts = DictionaryObject(
                {NameObject("/F1"): font("/Helvetica"), NameObject("/F2"): font("/Helvetica-Bold")}
            )
            for lines in report_lines(report):
                page = writer.add_blank_page(612, 792)
                page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
                stream = DecodedStreamObject()
                stream.set_data(_content_stream(lines).encode("latin-1"))
                page[NameObject("/Contents")] = writer._add_object(stream)
            buf = io.BytesIO()
            writer.write(buf)
            total += buf.tell()
        return total

    benchmark(make_all)
    rate = PYPDF_BATCH / benchmark.stats.stats.mean
    benchmark.extra_info["pdfs_per_second"] = round(rate)
    if f"template-{DEFAULT_SIZES}" in _rates:
        benchmark.extra_info["template_speedup"] = round(_rates[f"template-{DEFAULT_SIZES}"] / rate)


@pytest.mark.benchmark(group="upload")
def test_upload_rate_concurrent_against_a_sequential_boto3_loop(
    benchmark: Any, s3_sandbox: Any, s3_bucket: str
) -> None:
    endpoint = s3_sandbox.endpoint
    options = SeedOptions(bucket=s3_bucket, prefix="seq/", count=UPLOAD_COUNT, noise=0)
    factory = DocumentFactory(options.seed, options.sizes)
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name=endpoint.region,
        config=client_config(1),
    )
    t0 = time.perf_counter()
    for spec in Plan(options).specs():
        client.put_object(
            Bucket=s3_bucket, Key=spec.key, Body=factory.body(spec), ContentType="application/pdf"
        )
    sequential = UPLOAD_COUNT / (time.perf_counter() - t0)

    rounds = iter(range(1000))

    def concurrent() -> Any:
        return seed_bucket(
            endpoint, bucket=s3_bucket, prefix=f"c{next(rounds)}/", count=UPLOAD_COUNT, noise=0
        )

    result = benchmark.pedantic(concurrent, rounds=1, iterations=1)
    assert result.uploaded == UPLOAD_COUNT
    rate = UPLOAD_COUNT / result.upload_seconds
    benchmark.extra_info.update(
        backend=endpoint.backend,
        objects=UPLOAD_COUNT,
        concurrency=options.concurrency,
        objects_per_second=round(rate, 1),
        sequential_objects_per_second=round(sequential, 1),
        ratio_vs_sequential=round(rate / sequential, 2),
        mean_kib=round(result.bytes_uploaded / UPLOAD_COUNT / 1024, 1),
    )


METHODS_COUNT = 10_000
METHODS_SIZES = SizeRange(2_600, 2_600)  # the bench datasets' smallest PDFs


@pytest.mark.benchmark(group="upload-methods")
@pytest.mark.timeout(1200)  # 30,000 objects written and deleted on a shared 2-core machine
def test_upload_rate_snowball_against_concurrent_and_sequential_put(
    benchmark: Any, s3_sandbox: Any, s3_bucket: str
) -> None:
    from seed.method import is_minio

    client = s3_sandbox.client()
    server = client.list_buckets()["ResponseMetadata"]["HTTPHeaders"].get("server", "")
    if not is_minio(server):
        pytest.skip(f"snowball needs MinIO; this server says Server: {server!r}")
    endpoint = s3_sandbox.endpoint
    common: dict[str, Any] = {
        "bucket": s3_bucket,
        "count": METHODS_COUNT,
        "noise": 0,
        "sizes": METHODS_SIZES,
    }

    options = SeedOptions(prefix="seq/", **common)
    factory = DocumentFactory(options.seed, options.sizes)
    plain = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name=endpoint.region,
        config=client_config(1),
    )
    t0 = time.perf_counter()
    for spec in Plan(options).specs():
        plain.put_object(
            Bucket=s3_bucket, Key=spec.key, Body=factory.body(spec), ContentType="application/pdf"
        )
    sequential = METHODS_COUNT / (time.perf_counter() - t0)
    put = seed_bucket(endpoint, prefix="put/", method="put", **common)
    assert put.uploaded == METHODS_COUNT

    def snowball() -> Any:
        return seed_bucket(endpoint, prefix="snowball/", method="snowball", **common)

    result = benchmark.pedantic(snowball, rounds=1, iterations=1)
    assert (result.method, result.uploaded) == ("snowball", METHODS_COUNT)
    rate, put_rate = result.objects_per_second, put.objects_per_second
    benchmark.extra_info.update(
        backend=endpoint.backend,
        objects=METHODS_COUNT,
        snowball_objects_per_second=round(rate, 1),
        put_objects_per_second=round(put_rate, 1),
        sequential_objects_per_second=round(sequential, 1),
        snowball_vs_put=round(rate / put_rate, 2),
        snowball_vs_sequential=round(rate / sequential, 2),
        put_vs_sequential=round(put_rate / sequential, 2),
        repaired=result.repaired,
    )


def _peak_rss_mib(env: dict[str, str], argv: list[str]) -> float:
    """Peak RSS of one child process (fork per measurement: RUSAGE_CHILDREN keeps the max)."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *argv], env=env, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip()) / 1024  # ru_maxrss is KiB on Linux


@pytest.mark.benchmark(group="memory")
def test_memory_stays_bounded_as_the_count_grows(
    benchmark: Any, s3_sandbox: Any, s3_bucket: str, request: pytest.FixtureRequest
) -> None:
    large = 100_000 if request.config.getoption("--full", default=False) else 10_000
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3_sandbox.env())
    base = [sys.executable, "-m", "seed", "--bucket", s3_bucket, "--size", "2KiB-8KiB", "--quiet"]
    small_mib = _peak_rss_mib(env, [*base, "--prefix", "small/", "--count", "1000"])

    def run_large() -> float:
        return _peak_rss_mib(env, [*base, "--prefix", "large/", "--count", str(large)])

    large_mib = benchmark.pedantic(run_large, rounds=1, iterations=1)
    benchmark.extra_info.update(
        backend=s3_sandbox.endpoint.backend,
        peak_rss_mib_count_1000=round(small_mib, 1),
        **{f"peak_rss_mib_count_{large}": round(large_mib, 1)},
        bytes_per_extra_key=round((large_mib - small_mib) * 2**20 / (large - 1000)),
    )
