"""Uploads and claims over HTTP, each against a bare baseline served by the same gunicorn.

1. Recordings (a 60 s WAV at 8 kHz, about 1 MB: a minute of speech at 1 MB per recording) sent
   back to back by N annotators through the full endpoint — token auth, the assignment's lock,
   the audio probe, the storage write, the rows, the pipeline jobs and their enqueue — against a
   bare Django view that parses the same multipart body and writes the same bytes to the same
   storage. MB/s and p50/p99 of each, and the ratio.
2. Claims: `POST /api/projects/<id>/next/` (the lease row, the never-twice rule, the audit row,
   the answer with the image) against a bare view running one indexed `UPDATE … RETURNING`.
   Both servers serve claims only: each simulated annotator takes its next claim as the next of
   its own pool of users (an annotator holds one live lease, so a second claim by the same user
   would only give that lease back). `--submit` instead has one user per annotator submit a point
   set after each claim (not timed), as a working one does; then the full path's server also
   serves those submits and the bare one's does not, which halves its share of the machine.

Closed loop (the default): each annotator sends its next request as soon as the last is answered,
so 50 annotators keep 50 requests in flight and p99 measures the queue on the machine's cores
(the bare view's own p99 beside it says how much of it is the machine). `--open-loop 2 5` (claims
only): each annotator claims once every 2-5 s on its own schedule, whatever the answers' latency,
as an annotator does between items; latency counts from the scheduled time, and the ratios printed
are of p50 and p99, the schedule setting the throughput. `--rounds N` measures bare and full in
turn N times and pools the latencies, so a load that comes and goes on a shared machine falls on
both; each round's throughput ratio is printed too. `--conn-max-age 60` keeps connections
(DATABASE_CONN_MAX_AGE) and `--prepare` prepares statements (PIXMO_DB_PREPARE), for both paths.

Measured (2 shared cores, gunicorn 3 workers x 8 threads, claims only, 4 rounds of 60 claims per
annotator): with the default connection per request, 0.56x / 0.58x / 0.57x the bare view's
throughput at 1 / 10 / 50 annotators (rounds 0.47-0.68); with `--conn-max-age 60 --prepare`, where
the bare view gains most, 0.38x / 0.48x / 0.36x. Closed loop at 50 the bare view's own p99 is
403 ms (115 ms with kept connections), so a 50 ms p99 there is the machine's limit, not the
claim's. Open loop, 50 annotators claiming every 2-5 s: claim p50 13.7 ms, p99 23.9 ms (bare 8.1
/ 16.4); kept connections and prepared: 5.7 / 26.9 ms (bare 3.3 / 7.6).

Both run under `bench.bare.settings` (the platform's settings, the bare views mounted beside the
real URLs) on PostgreSQL (DATABASE_URL) with a filesystem broker in a scratch folder.

    source /tmp/pixmo-env.sh   # any DATABASE_URL to a scratch PostgreSQL database
    .venv/bin/python bench/upload.py --annotators 1 10 50
    .venv/bin/python bench/upload.py --paths claim --rounds 2 --conn-max-age 60 --prepare
    .venv/bin/python bench/upload.py --paths claim --annotators 50 --claims-per-annotator 10 --open-loop 2 5 \
        --conn-max-age 60 --prepare
"""

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotation_app.settings")

import django

django.setup()

from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token
from tqdm import tqdm

from annotation_app.models import Image, Project, User, WorkItem
from devtools.servers import Gunicorn, TokenClient, database_url, multipart_body, percentile_ms, run_together
from devtools.speech import wav_bytes


def setup(items: int, annotators: int, pool: int = 1) -> tuple[Project, Project, Project, list[list[str]]]:
    """The three projects, and for each annotator `pool` users' tokens (made in bulk)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    image = Image.objects.filter(sha256="c" * 64).first() or Image.objects.create(
        sha256="c" * 64, file="bench.png", mime="image/png", byte_size=1, width=640, height=480)
    captions = Project.objects.create(name=f"bench upload {run}", slug=f"bench-upload-{run}", kind="caption",
                                      min_duration_s=1, target_duration_s=30, max_duration_s=120)
    points = Project.objects.create(name=f"bench claim {run}", slug=f"bench-claim-{run}", kind="points",
                                    labels=["person"])
    bare = Project.objects.create(name=f"bench bare {run}", slug=f"bench-bare-{run}", kind="points")
    for project in tqdm((captions, points, bare), desc="work items", unit="project"):
        WorkItem.objects.bulk_create([WorkItem(project=project, image=image, variant=v, open_slots=1)
                                      for v in range(items)], batch_size=5000)
    users = User.objects.bulk_create(
        [User(username=f"bench-{run}-{i}-{j}", password="!") for i in range(annotators) for j in range(pool)],
        batch_size=5000)
    made = Token.objects.bulk_create([Token(user=user, key=Token.generate_key()) for user in users], batch_size=5000)
    with connection.cursor() as cursor:  # fresh statistics for the tables the claim reads
        cursor.execute("ANALYZE annotation_app_workitem")
        cursor.execute("ANALYZE annotation_app_assignment")
        cursor.execute(f"ANALYZE {User._meta.db_table}")
        cursor.execute(f"ANALYZE {Token._meta.db_table}")
    keys = [token.key for token in made]
    return captions, points, bare, [keys[i * pool:(i + 1) * pool] for i in range(annotators)]


def closed_loop(concurrency: int, per_client: int, make_call, warmup: int = 2) -> tuple[float, list[float], int]:
    """(calls/s, latencies, errors): `concurrency` threads each make `warmup` untimed calls, then
    `per_client` timed ones. Throughput is concurrency / mean latency (Little's law for a closed
    loop), so a step a call makes before its timed request (the upload's claim) is not counted."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        call = make_call(index)
        for _ in range(warmup):
            call()
        barrier.wait()
        for _ in range(per_client):
            ok, seconds = call()
            latencies[index].append(seconds)
            errors[index] += not ok

    run_together(worker, concurrency, barrier)
    flat = [x for per in latencies for x in per]
    return concurrency / (sum(flat) / len(flat)), flat, sum(errors)


def open_loop(concurrency: int, per_client: int, make_call, pace: tuple[float, float],
              warmup: int = 2) -> tuple[float, list[float], int]:
    """(calls/s, latencies, errors) like `closed_loop`, but each of `concurrency` annotators makes
    its calls on its own schedule, one every `pace` seconds (uniform between the two), whatever the
    answers' latency: an annotator claims, works on the item (the full claim's submit is part of
    that work), and claims again. Starts are staggered over the first interval. A call whose
    scheduled time has passed (the server fell behind) goes at once and its latency counts from
    the scheduled time, so a slow server is not hidden by fewer calls."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        call, rng = make_call(index), random.Random(index)
        for _ in range(warmup):
            call()
        barrier.wait()
        due = time.perf_counter() + rng.uniform(0, pace[1])
        for _ in range(per_client):
            time.sleep(max(0.0, due - time.perf_counter()))
            late = max(0.0, time.perf_counter() - due)
            ok, seconds = call()
            latencies[index].append(late + seconds)
            errors[index] += not ok
            due += rng.uniform(*pace)

    elapsed = run_together(worker, concurrency, barrier)
    flat = [x for per in latencies for x in per]
    return len(flat) / elapsed, flat, sum(errors)


def ratio_text(name: str, pooled: dict, round_rates: dict, args) -> str:
    """Beside a full path: its throughput over the bare one's (closed loop; per round too when
    there are several), or its p50 and p99 over the bare one's (open loop, where the schedule sets
    the throughput)."""
    if name.startswith("bare"):
        return ""
    full, bare = pooled[name][0], pooled["bare " + name][0]
    if args.open_loop:
        return (f"   p50 {percentile_ms(full, 50) / percentile_ms(bare, 50):.2f}×, "
                f"p99 {percentile_ms(full, 99) / percentile_ms(bare, 99):.2f}× the bare one's")
    text = f"   {(sum(bare) / len(bare)) / (sum(full) / len(full)):.2f}× throughput"
    if args.rounds > 1:
        per_round = zip(round_rates[name], round_rates["bare " + name], strict=True)
        text += " (rounds: " + " ".join(f"{full_rate / bare_rate:.2f}" for full_rate, bare_rate in per_round) + ")"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotators", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--uploads-per-annotator", type=int, default=4)
    parser.add_argument("--claims-per-annotator", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each recording")
    parser.add_argument("--rate", type=int, default=8000, help="sample rate of each recording (16-bit mono)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--conn-max-age", type=int, default=0,
                        help="DATABASE_CONN_MAX_AGE for the server (0: a connection per request, the default)")
    parser.add_argument("--prepare", action="store_true",
                        help="PIXMO_DB_PREPARE=1 for the server (server-side binding, prepared statements)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each path this many times, bare and full in turn, and pool the latencies "
                             "(a load that comes and goes falls on both); each round's ratio is printed")
    parser.add_argument("--open-loop", type=float, nargs=2, metavar=("MIN_S", "MAX_S"),
                        help="claims only: each annotator claims once every MIN_S..MAX_S seconds (think time) "
                             "instead of back to back")
    parser.add_argument("--submit", action="store_true",
                        help="claims by one user per annotator, each followed by an untimed point-set submit "
                             "(default: claims only, each by the next user of the annotator's pool)")
    parser.add_argument("--paths", nargs="+", choices=["upload", "claim"], default=["upload", "claim"],
                        help="what to measure, each against its bare baseline (default: both)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/upload.py needs PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 2
    most = max(args.annotators)
    if args.open_loop and args.paths != ["claim"]:
        parser.error("--open-loop measures claims only: add --paths claim")
    per_annotator = max(args.uploads_per_annotator, args.claims_per_annotator) + 2
    items = sum(args.annotators) * per_annotator * args.rounds + 100
    # claims only: every claim (warm-up included) in every round at every concurrency by its own user
    pool = 1 if args.submit else (args.claims_per_annotator + 2) * args.rounds * len(args.annotators)
    captions, points, bare, pools = setup(items, most, pool)
    tokens = [keys[0] for keys in pools]
    audio = wav_bytes(args.seconds, sample_rate=args.rate)
    megabytes = len(audio) / 1e6
    scratch = Path(tempfile.mkdtemp(prefix="pixmo-bench-upload-"))
    env = {"DJANGO_SETTINGS_MODULE": "bench.bare.settings", "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url(settings.DATABASES["default"]),
           "PIXMO_MEDIA_ROOT": str(scratch / "media"), "PIXMO_VAR_DIR": str(scratch / "var"),
           "CELERY_BROKER_URL": "filesystem://", "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
           "PIXMO_DB_PREPARE": "1" if args.prepare else "0"}
    with Gunicorn(folder=scratch, env=env, workers=args.workers, threads=args.threads) as server:
        print(f"gunicorn {args.workers} workers × {args.threads} threads, PostgreSQL {connection.pg_version}; "
              f"recording {megabytes:.2f} MB ({args.seconds:.0f} s WAV at {args.rate} Hz)")

        def full_upload(index: int):
            client = TokenClient(server.url, tokens[index])

            def call():
                status, body, _ = client.json("POST", f"/api/projects/{captions.pk}/next/")
                if status != 200:
                    return False, 0.0
                payload, content_type = multipart_body(
                    {"client_uuid": str(uuid.uuid4()), "client_duration_s": str(args.seconds)},
                    {"audio": ("take.wav", "audio/wav", audio)})
                status, _, seconds = client.json("POST", f"/api/assignments/{body['id']}/recordings/",
                                                 body=payload, content_type=content_type)
                return status == 201, seconds
            return call

        def bare_upload(index: int):
            client = TokenClient(server.url, None)

            def call():
                payload, content_type = multipart_body({"client_uuid": str(uuid.uuid4())},
                                                       {"audio": ("take.wav", "audio/wav", audio)})
                status, _, seconds = client.json("POST", "/bench/bare-upload/", body=payload, content_type=content_type)
                return status == 201, seconds
            return call

        used = [0] * most  # users of each annotator's pool claimed with so far, over rounds and levels

        def full_claim(index: int):
            client = TokenClient(server.url, tokens[index])

            def call():
                if not args.submit:
                    client.headers = {"Authorization": f"Token {pools[index][used[index]]}"}
                    used[index] += 1
                status, body, seconds = client.json("POST", f"/api/projects/{points.pk}/next/")
                if status != 200 or not args.submit:
                    return status == 200, seconds
                done, _, _ = client.json("POST", f"/api/assignments/{body['id']}/points/", {"point_sets": [
                    {"client_uuid": str(uuid.uuid4()), "label": "person", "points": [{"x_px": 10, "y_px": 10}]}]})
                return done == 201, seconds
            return call

        def bare_claim(index: int):
            client = TokenClient(server.url, None)

            def call():
                status, _, seconds = client.json("POST", f"/bench/bare-claim/{bare.pk}/")
                return status == 200, seconds
            return call

        loop = "closed loop" if not args.open_loop else f"open loop, a claim every {args.open_loop[0]:g}-{args.open_loop[1]:g} s"
        print(f"{loop}; {args.rounds} round(s) per path, bare and full in turn, latencies pooled")
        print(f"\n{'annotators':>10} {'path':>12} {'MB/s':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
              "   ratio vs bare")
        for concurrency in args.annotators:
            paths = (("bare upload", bare_upload, args.uploads_per_annotator),
                     ("upload", full_upload, args.uploads_per_annotator),
                     ("bare claim", bare_claim, args.claims_per_annotator),
                     ("claim", full_claim, args.claims_per_annotator))
            measured = [path for path in paths if path[0].removeprefix("bare ") in args.paths]
            pooled = {name: ([], 0) for name, _, _ in measured}
            round_rates = {name: [] for name, _, _ in measured}
            for _ in range(args.rounds):
                for name, make, per in measured:
                    if args.open_loop:
                        rate, latencies, errors = open_loop(concurrency, per, make, tuple(args.open_loop))
                    else:
                        rate, latencies, errors = closed_loop(concurrency, per, make)
                    pooled[name] = (pooled[name][0] + latencies, pooled[name][1] + errors)
                    round_rates[name].append(rate)
            for name, _, _ in measured:
                latencies, errors = pooled[name]
                rate = (sum(round_rates[name]) / args.rounds if args.open_loop
                        else concurrency / (sum(latencies) / len(latencies)))
                mbps = f"{rate * megabytes:7.1f}" if "upload" in name else f"{'':>7}"
                print(f"{concurrency:>10} {name:>12} {mbps} {rate:7.1f} {percentile_ms(latencies, 50):8.1f} "
                      f"{percentile_ms(latencies, 99):8.1f} {errors:>6}{ratio_text(name, pooled, round_rates, args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
