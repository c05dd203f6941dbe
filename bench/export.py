"""Benchmark the release writer.

1. Throughput: samples/s of `ReleaseWriter` (tar shards + parquet + row checks + checksums)
   against a bare `tarfile` write of the same image and JSON bytes, in the same run.
2. Memory: peak RSS of a full release write at a small and a large row count, each in its own
   process; streaming means the two peaks are close.

    flock /tmp/pixmo-heavy.lock .venv/bin/python bench/export.py            # 100k vs 1M rows
    .venv/bin/python bench/export.py --small 10000 --large 100000 --throughput 20000
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pixmo_builders.manifest import ReleaseInfo
from pixmo_builders.split import SplitPolicy
from pixmo_builders.writer import ExportRow, ReleaseWriter

IMAGE_BYTES = 2048
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def synthetic_rows(*, count: int):
    """Rows with distinct fake-PNG images of IMAGE_BYTES each (bytes are not decoded by the writer)."""
    padding = b"\0" * (IMAGE_BYTES - len(PNG_SIGNATURE) - 8)
    for index in range(count):
        image = PNG_SIGNATURE + index.to_bytes(8, "big") + padding
        sha = hashlib.sha256(image).hexdigest()
        row = {
            "image_url": f"https://images.example/{index}.png",
            "image_sha256": sha,
            "points": [{"x": 12.5, "y": 40.0}, {"x": 60.0, "y": 10.5}],
            "count": 2,
            "label": "bench object",
            "collection_method": "pointing",
        }
        yield ExportRow(row=row, image_sha256=sha, image=image)


def write_release(*, count: int, folder: Path) -> float:
    start = time.perf_counter()
    ReleaseWriter(
        location=str(folder),
        info=ReleaseInfo(dataset="pixmo-points"),
        split_policy=SplitPolicy(validation_fraction=0.02),
        shard_max_samples=10_000,
    ).write_all(synthetic_rows(count=count))
    return time.perf_counter() - start


def write_bare_tar(*, count: int, folder: Path) -> float:
    """The baseline: the same image + JSON bytes into tar files of the same size, nothing else."""
    start = time.perf_counter()
    tar = None
    for index, item in enumerate(synthetic_rows(count=count)):
        if index % 10_000 == 0:
            if tar:
                tar.close()
            tar = tarfile.open(folder / f"bare-{index // 10_000:05d}.tar", "w")
        record = json.dumps({"image_sha256": item.image_sha256, "rows": [item.row], "metas": [{}]}).encode()
        for name, data in ((f"{index:09d}.png", item.image), (f"{index:09d}.json", record)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tar.close()
    return time.perf_counter() - start


def peak_rss_mib(*, count: int) -> float:
    """Write `count` rows in a fresh process and return that process's peak RSS."""
    code = (
        "import sys, resource, tempfile, pathlib; sys.path.insert(0, %r); import export; "
        "d = pathlib.Path(tempfile.mkdtemp()); export.write_release(count=%d, folder=d / 'r'); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    ) % (str(Path(__file__).parent), count)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(output.strip().splitlines()[-1]) / 1024  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--throughput", type=int, default=100_000, help="rows for the throughput comparison")
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bare = write_bare_tar(count=args.throughput, folder=Path(scratch))
        ours = write_release(count=args.throughput, folder=Path(scratch) / "release")
    print(f"bare tarfile: {args.throughput / bare:,.0f} samples/s")
    print(f"ReleaseWriter (tar + parquet + checks + sha256): {args.throughput / ours:,.0f} samples/s")
    print(f"throughput ratio ReleaseWriter / bare tarfile: {bare / ours:.2f} (aim >= 0.8)")
    small, large = peak_rss_mib(count=args.small), peak_rss_mib(count=args.large)
    print(f"peak RSS: {small:.0f} MiB at {args.small:,} rows, {large:.0f} MiB at {args.large:,} rows")
    print(f"memory ratio large / small: {large / small:.2f} for {args.large / args.small:.0f}x the rows")


if __name__ == "__main__":
    main()
