"""Claims per second and p50/p99 claim latency at 1, 10 and 50 concurrent annotators.

Runs against PostgreSQL (DATABASE_URL) with 100k work items, beside a baseline measured in the
same run: a single bare indexed `UPDATE … RETURNING` claim that takes a slot and nothing else
(no per-annotator exclusion, no assignment row, no audit). The ratio says what the full claim
path (lease row, never-twice rule, audit log) costs.

    source /tmp/pixmo-env.sh   # or any DATABASE_URL to a scratch PostgreSQL database
    .venv/bin/python bench/claim.py --items 100000 --claims-per-worker 200
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotation_app.settings")

import django

django.setup()

from django.db import connection, connections
from django.db.models import F
from tqdm import tqdm

from annotation_app.models import Assignment, AuditEvent, Image, Project, User, WorkItem
from annotation_app.services.assignments import assignment_claim
from bench.bare.sql import BARE_CLAIM_SQL
from devtools.servers import run_together


def setup(items: int) -> Project:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    Assignment.objects.filter(project__slug="bench-claim").delete()
    AuditEvent.objects.filter(action="assignment.claim").delete()
    WorkItem.objects.filter(project__slug="bench-claim").delete()
    Project.objects.filter(slug="bench-claim").delete()
    project = Project.objects.create(name="bench", slug="bench-claim", kind="points", overlap_k=1)
    image = Image.objects.filter(sha256="b" * 64).first() or Image.objects.create(
        sha256="b" * 64, file="bench.png", mime="image/png", byte_size=1, width=1, height=1
    )
    # One image in many work items is enough for claim timing: variants keep rows unique.
    batch = 10_000
    for start in tqdm(range(0, items, batch), desc="work items", unit="batch"):
        WorkItem.objects.bulk_create(
            [WorkItem(project=project, image=image, variant=v, open_slots=1) for v in range(start, min(start + batch, items))]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_app_workitem")
    return project


def reset(project: Project) -> None:
    Assignment.objects.filter(project=project).delete()
    WorkItem.objects.filter(project=project).update(open_slots=F("open_slots") * 0 + 1)


def users(n: int) -> list[User]:
    out = []
    for i in range(n):
        user, _ = User.objects.get_or_create(username=f"bench-annotator-{i}")
        out.append(user)
    return out


def run(concurrency: int, claims: int, claim_once) -> tuple[float, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            for _ in range(claims):
                start = time.perf_counter()
                claim_once(index)
                latencies[index].append(time.perf_counter() - start)
        finally:
            connections.close_all()

    elapsed = run_together(worker, concurrency, barrier)
    flat = [x for per in latencies for x in per]
    return len(flat) / elapsed, flat


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--claims-per-worker", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/claim.py needs PostgreSQL: set DATABASE_URL (SKIP LOCKED is what it measures).", file=sys.stderr)
        return 2
    project = setup(args.items)
    annotators = users(max(args.concurrency))

    def full_claim(index: int) -> None:
        # Submit at once so the next call claims a new item, as a working annotator does.
        assignment = assignment_claim(annotator=annotators[index], project=project)
        Assignment.objects.filter(pk=assignment.pk).update(status="submitted")

    def bare_claim(index: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(BARE_CLAIM_SQL, [project.pk])
            cursor.fetchone()

    print(f"PostgreSQL {connection.pg_version}, {args.items:,} items, {args.claims_per_worker} claims per annotator")
    print(f"{'annotators':>10} {'path':>9} {'claims/s':>9} {'p50 ms':>8} {'p99 ms':>8}   ratio vs bare")
    for concurrency in args.concurrency:
        reset(project)
        bare_rate, bare_lat = run(concurrency, args.claims_per_worker, bare_claim)
        reset(project)
        full_rate, full_lat = run(concurrency, args.claims_per_worker, full_claim)
        print(f"{concurrency:>10} {'bare':>9} {bare_rate:>9.0f} {pct(bare_lat, 50):>8.2f} {pct(bare_lat, 99):>8.2f}")
        print(f"{concurrency:>10} {'claim':>9} {full_rate:>9.0f} {pct(full_lat, 50):>8.2f} {pct(full_lat, 99):>8.2f}"
              f"   {full_rate / bare_rate:.2f}× throughput")
    reset(project)
    return 0


if __name__ == "__main__":
    sys.exit(main())
