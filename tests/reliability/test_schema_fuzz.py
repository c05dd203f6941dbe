"""Schemathesis against the OpenAPI schema the app serves, with each role's token.

The schema is loaded from /api/schema/ through the app's WSGI handler, and every operation in it is
called in-process, on the real database (committed transactions, as in production), as anonymous,
annotator, reviewer and admin, each with a DRF token. Before the run the database holds a project
of each kind with work items, claimed and finished assignments, a recording, point sets, ask
threads, judgments, a caption and a release; two thirds of the cases name those rows in their
path, and half the positive ones name them in their body.

Every answer is checked by schemathesis: no 5xx, a documented status code and content type, a body
that matches the documented schema; and a request generated from the schema's positive side is
not refused with a 400 that contradicts the schema (the positive_data_acceptance check). The only
400s a schema-valid request may get are the domain refusals in DOMAIN_REFUSALS: each depends on
the state of the rows (a label list, an image's size, a project's kind) or on the bytes of an
upload, which no schema can state. Last, each of the six submission endpoints gets 40 positive
bodies on a live assignment (or open thread) of its own; each must take at least one. The module
prints "schema fuzz: N operations x 4 roles, M requests, K server errors".
"""

import os
import re
import subprocess
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from annotation_app.celery import app as celery_app
from annotation_app.models import (
    AskThread,
    Assignment,
    Caption,
    CaptionVersion,
    DatasetRelease,
    Image,
    PointSet,
    Project,
    Recording,
)
from annotation_app.services.ask import ask_thread_start
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.compare import judgment_submit
from annotation_app.services.points import PointSetInput, point_sets_submit
from annotation_app.services.recordings import AUDIO_TYPES, recording_submit
from tests.annotation_app.factories import (
    CompareItemFactory,
    ImageFactory,
    ProjectFactory,
    WorkItemFactory,
    wav_bytes,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Examples per operation, role and generation mode; PIXMO_SCHEMA_FUZZ_EXAMPLES runs a longer fuzz.
EXAMPLES = int(os.environ.get("PIXMO_SCHEMA_FUZZ_EXAMPLES", "10"))
ROLES = ("anonymous", "annotator", "reviewer", "admin")
PROBES = 40  # positive bodies per submission endpoint on its own live assignment
ITEMS = 12  # work items per project
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          positive_data_acceptance]

# 400s that a request valid by the schema may still get, each for a reason a schema cannot state.
DOMAIN_REFUSALS = [
    # The label list is a project's own (Project.labels), not the endpoint's.
    (r"is not in this project's label list", "a project's own label list"),
    # Points are pixels of the image the assignment shows; its width and height are the row's.
    (r"lies outside the \d+×\d+ px image", "the image's width and height"),
    # Which submission an assignment takes follows from its project's kind.
    (r"belong to \w+ projects only", "the assignment's project kind"),
    # An upload's bytes must decode, as audio at least as long as the project's minimum, or as an image.
    (r"the upload is not audio that can be decoded", "the bytes of the upload"),
    (r"under this project's minimum of", "the project's minimum duration"),
    (r"no image was imported: ", "the bytes of the upload"),
    # Ids in a body name rows that must exist.
    (r"object does not exist", "whether the row with that id exists"),
    (r"images \[[\d, ]+\] do not exist", "whether the row with that id exists"),
    (r"a project with slug '[^']*' already exists", "whether a row with that slug exists"),
    # Rules that compare two values of one body: OpenAPI 3.0 has no way to compare them.
    (r"must lie between min_duration_s|must not exceed max_duration_s", "an order between two fields"),
    (r"points \d+ and \d+ are at the same place", "two points equal once rounded to one decimal"),
    (r"a rejection needs a reason|only captions are edited in review|the edited caption is empty",
     "a field required by the decision's value"),
    # An edited answer may point only at the thread's own points.
    (r"point tag that is not one of your points", "the thread's stored points"),
]


WAV = wav_bytes(2.0)  # 2 s, over the seeded caption project's 1 s minimum
# How ffmpeg writes the 2 s tone in each accepted audio type that is not WAV.
ENCODINGS = {
    "audio/webm": ["-c:a", "libopus", "-f", "webm"], "audio/ogg": ["-c:a", "libopus", "-f", "ogg"],
    "audio/mp4": ["-c:a", "aac", "-f", "mp4"], "audio/aac": ["-c:a", "aac", "-f", "adts"],
    "audio/flac": ["-c:a", "flac", "-f", "flac"], "audio/mpeg": ["-c:a", "libmp3lame", "-f", "mp3"],
}


@pytest.fixture(scope="module")
def audio_parts(tmp_path_factory):
    """A multipart audio part of each accepted type is the 2 s tone in that type half the time
    (so an upload can be stored), else arbitrary bytes."""
    folder = tmp_path_factory.mktemp("audio")
    source = folder / "tone.wav"
    source.write_bytes(WAV)
    samples = {}
    for mime in AUDIO_TYPES:
        if mime in ENCODINGS:
            out = folder / f"tone.{AUDIO_TYPES[mime]}"
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *ENCODINGS[mime],
                            str(out)], check=True, capture_output=True)
            samples[mime] = out.read_bytes()
        else:
            samples[mime] = WAV
    arbitrary = st.binary(min_size=1, max_size=2048)
    for mime, sample in samples.items():
        schemathesis.openapi.media_type(mime, st.one_of(st.just(sample), arbitrary))
    return samples


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # one per (operation, failure kind)
    statuses: Counter = field(default_factory=Counter)
    by_operation: dict[str, Counter] = field(default_factory=dict)  # statuses per operation
    samples: dict[tuple[str, int], str] = field(default_factory=dict)  # a positive case's answer per status
    domain_refusals: Counter = field(default_factory=Counter)
    no_negative: set[str] = field(default_factory=set)


@pytest.fixture
def filesystem_broker(tmp_path):
    """This process's task sends go to a folder (no worker reads it): uploads and questions are
    committed with their pipeline jobs, and nothing reaches a shared broker."""
    folder = tmp_path / "broker"
    options = {"data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
               "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"),
               "store_processed": False}
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(parents=True)
    conf = celery_app.conf
    previous = conf.broker_write_url, conf.broker_transport_options
    conf.broker_write_url, conf.broker_transport_options = "filesystem://", options
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield folder
    conf.broker_write_url, conf.broker_transport_options = previous
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@dataclass
class World:
    tokens: dict[str, str | None]
    any_ids: dict[str, list[int]]  # path ids of every seeded row
    own_ids: dict[str, list[int]]  # the annotator's own assignments, recordings and threads
    live: dict[str, int]  # the annotator's live assignment on a project of each kind
    body_ids: dict[str, list[int]]  # ids that bodies name (review targets, images, projects)
    projects: dict[str, Project]  # one of each kind


def seed(*, annotator, other_annotator, reviewer, admin_user, release_dir) -> World:
    """A project of each kind with work done in each by two annotators, a caption to review and a
    release."""
    caption = ProjectFactory(kind="caption", min_duration_s=1.0, target_duration_s=5.0, max_duration_s=120.0)
    points = ProjectFactory(kind="points", labels=[])
    labelled = ProjectFactory(kind="points", labels=["cat", "dog"])
    ask = ProjectFactory(kind="ask")
    compare = ProjectFactory(kind="compare")
    for project in (caption, points, labelled, ask):
        for _ in range(ITEMS):
            WorkItemFactory(project=project, image=ImageFactory(width=640, height=480))
    for _ in range(ITEMS):
        CompareItemFactory(work_item__project=compare)

    live = {}
    for user in (annotator, other_annotator):
        first = {kind: assignment_claim(annotator=user, project=project)
                 for kind, project in (("caption", caption), ("points", points), ("labelled", labelled),
                                       ("ask", ask), ("compare", compare))}
        recording_submit(assignment=first["caption"], annotator=user, client_uuid=uuid.uuid4(), client_duration_s=2.0,
                         audio=SimpleUploadedFile("take.wav", WAV, content_type="audio/wav"))
        point_sets_submit(assignment=first["points"], annotator=user, point_sets=[
            PointSetInput(client_uuid=uuid.uuid4(), label="red kettle", points_px=[(10.0, 20.5), (300, 200)]),
            PointSetInput(client_uuid=uuid.uuid4(), label="zebra", points_px=[], not_present=True)])
        thread, _ = ask_thread_start(assignment=first["ask"], annotator=user, client_uuid=uuid.uuid4(),
                                     question="What is written on the sign?", points=[{"x": 50.0, "y": 25.0}])
        # The model has answered (as the llm worker would), so feedback and accept can go on.
        thread.turns.filter(status="pending").update(status="ready", text="It says OPEN.")
        judgment_submit(assignment=first["compare"], annotator=user, client_uuid=uuid.uuid4(), choice="left")
        live[user] = {kind: assignment_claim(annotator=user, project=project).pk  # besides each finished one
                      for kind, project in (("caption", caption), ("points", points), ("compare", compare))}
        live[user]["ask"] = first["ask"].pk  # its thread is open
    recording = Recording.objects.filter(annotator=annotator).get()
    made = Caption.objects.create(work_item=recording.work_item, refine_key=f"fuzz-{recording.work_item_id}")
    CaptionVersion.objects.create(caption=made, number=1, text="A red kettle on a table.", source="cleanup")
    DatasetRelease.objects.create(name="fuzz-release", datasets=["pixmo-points"], uri=str(release_dir),
                                  status="complete", counts={"pixmo-points": {"train": 2}}, created_by=admin_user)

    tokens = {"anonymous": None}
    for role, user in (("annotator", annotator), ("reviewer", reviewer), ("admin", admin_user)):
        tokens[role] = Token.objects.create(user=user).key

    def ids(model, **filters) -> list[int]:
        return list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))

    return World(
        tokens=tokens,
        any_ids={"assignment_id": ids(Assignment), "project_id": ids(Project), "recording_id": ids(Recording),
                 "thread_id": ids(AskThread)},
        own_ids={"assignment_id": ids(Assignment, annotator=annotator), "project_id": ids(Project),
                 "recording_id": ids(Recording, annotator=annotator), "thread_id": ids(AskThread, annotator=annotator)},
        live=live[annotator],
        body_ids={"caption": ids(Caption), "point_set": ids(PointSet), "ask_thread": ids(AskThread),
                  "project": ids(Project), "image_ids": ids(Image)},
        projects={"caption": caption, "points": points, "ask": ask, "compare": compare},
    )


# The kind of project whose assignment each submission endpoint takes.
SUBMISSION_KIND = {"recordings": "caption", "points": "points", "ask": "ask", "judgment": "compare"}


def case_strategy(operation, mode: GenerationMode, world: World):
    """Generated cases; in a third of them the path names the annotator's own rows (for a
    submission, often the live assignment it is for), in another third any seeded rows; and a
    positive body names seeded rows half the time."""
    names = [p.name for p in operation.path_parameters]
    generated = operation.as_strategy(generation_mode=mode)
    strategies = [generated]
    kind = SUBMISSION_KIND.get(operation.path.rstrip("/").rsplit("/", 1)[-1])
    own = {**world.own_ids, "assignment_id": [world.live[kind]] * 4 + world.own_ids["assignment_id"]} \
        if kind else world.own_ids
    for known in (own, world.any_ids):
        if names and all(name in known for name in names):
            strategies.append(st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names}).flatmap(
                lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids)))
    cases = st.one_of(strategies)
    if mode is GenerationMode.NEGATIVE:
        return cases
    return cases.flatmap(lambda case: st.one_of(st.just(case), with_seeded_body_ids(case, world.body_ids)))


def with_seeded_body_ids(case, body_ids: dict[str, list[int]]):
    """The case with each id its body names replaced by a seeded row's (still valid by the schema)."""
    body = case.body
    if not isinstance(body, dict) or not body_ids.keys() & body.keys():
        return st.just(case)

    def replaced(values: dict):
        case.body = {**body, **values}
        return case

    picks = {}
    for name in body_ids.keys() & body.keys():
        one = st.sampled_from(body_ids[name])
        picks[name] = st.lists(one, min_size=1, max_size=3) if isinstance(body[name], list) else one
    return st.fixed_dictionaries(picks).map(replaced)


def domain_refusal(response) -> str | None:
    """The reason a 400 is a refusal no schema can state, or None."""
    if response.status_code != 400:
        return None
    text = response.text
    for pattern, reason in DOMAIN_REFUSALS:
        if re.search(pattern, text):
            return reason
    return None


def fuzz_one(operation, role: str, mode: GenerationMode, world: World, tally: Tally, errors: list, *,
             strategy=None, examples: int = EXAMPLES) -> int:
    """Sends `examples` generated cases and checks each answer; returns how many were 2xx."""
    token = world.tokens[role]
    headers = {"Authorization": f"Token {token}"} if token else {}
    accepted = []

    @given(case=strategy if strategy is not None else case_strategy(operation, mode, world))
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        errors.clear()
        response = case.call(headers=headers)
        accepted.append(response.status_code < 300)
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        tally.by_operation.setdefault(operation.label, Counter())[response.status_code] += 1
        if mode is GenerationMode.POSITIVE and token:
            tally.samples.setdefault((operation.label, response.status_code), f"as {role}: {response.text[:200]}")
        if response.status_code >= 500:
            trace = errors[-1] if errors else response.text[:500]
            tally.server_errors.append(f"{operation.label} as {role} ({mode}): {response.status_code}\n{trace}")
        checks = CHECKS
        if reason := domain_refusal(response):
            tally.domain_refusals[reason] += 1
            checks = [c for c in CHECKS if c is not positive_data_acceptance]
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = f"{operation.label} | {type(failure).__name__} | {failure.title}"
                tally.failures.setdefault(key, f"as {role} ({mode}):\n{failure.message}\n"
                                               f"{case.as_curl_command(headers=headers)}\n"
                                               f"-> {response.status_code} {response.text[:300]}")

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        tally.no_negative.add(operation.label)  # nothing in it can be made invalid (no parameters, no body)
    return sum(accepted)


def probe_submissions(operations, world: World, annotator, tally: Tally, errors: list) -> dict[str, int]:
    """Schema-generated bodies sent to each submission endpoint as the annotator, on a fresh live
    assignment of its kind (or a fresh open thread whose question the model has answered): how
    many were answered 2xx (a repeated client UUID is answered 200 with the stored row)."""
    answered = {}
    for operation in operations:
        action = operation.path.rstrip("/").rsplit("/", 1)[-1]
        if kind := SUBMISSION_KIND.get(action):
            path = {"assignment_id": assignment_claim(annotator=annotator, project=world.projects[kind]).pk}
        elif operation.path.startswith("/api/ask-threads/") and action in ("feedback", "accept"):
            path = {"thread_id": answered_thread(world, annotator)}
        else:
            continue
        strategy = operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path)
        answered[operation.label] = fuzz_one(operation, "annotator", GenerationMode.POSITIVE, world, tally, errors,
                                             strategy=strategy, examples=PROBES)
    return answered


def answered_thread(world: World, annotator) -> int:
    assignment = assignment_claim(annotator=annotator, project=world.projects["ask"])
    thread, _ = ask_thread_start(assignment=assignment, annotator=annotator, client_uuid=uuid.uuid4(),
                                 question="What colour is the door?")
    thread.turns.filter(status="pending").update(status="ready", text="The door is red.")
    return thread.pk


def test_schema_fuzz_every_operation_as_every_role(
        request, settings, tmp_path, filesystem_broker, audio_parts, annotator, other_annotator, reviewer, admin_user):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False  # a server error is answered 500 and recorded, not raised here
    world = seed(annotator=annotator, other_annotator=other_annotator, reviewer=reviewer, admin_user=admin_user,
                 release_dir=tmp_path / "release")
    wsgi = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi)
    only = os.environ.get("PIXMO_SCHEMA_FUZZ_ONLY", "")  # a part of the operations' labels, to fuzz a few
    operations = [op for op in (result.ok() for result in schema.get_all_operations()) if only in op.label]
    tally = Tally()
    errors: list[str] = []

    def record(sender, request=None, **kwargs):
        errors.append(traceback.format_exc())

    got_request_exception.connect(record)
    try:
        for operation in operations:
            for role in ROLES:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    fuzz_one(operation, role, mode, world, tally, errors)
        stored = probe_submissions(operations, world, annotator, tally, errors)
    finally:
        got_request_exception.disconnect(record)

    line = (f"schema fuzz: {len(operations)} operations x {len(ROLES)} roles, {tally.requests} requests, "
            f"{len(tally.server_errors)} server errors")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{line}")
        print(f"  statuses: {dict(sorted(tally.statuses.items()))}")
        print(f"  domain refusals: {dict(tally.domain_refusals)}")
        never = {op.label: tally.by_operation.get(op.label, Counter()) for op in operations
                 if not any(code < 300 for code in tally.by_operation.get(op.label, ()))}
        print(f"  operations answered 2xx at least once: {len(operations) - len(never)}/{len(operations)}")
        print("  schema-generated submissions answered 2xx on a live assignment or open thread: "
              + ", ".join(f"{label.split()[-1]} {n}/{PROBES}" for label, n in stored.items()))
        for label, statuses in never.items():
            print(f"    never 2xx: {label} {dict(statuses)}")
            for (sampled, status), text in tally.samples.items():
                if sampled == label:
                    print(f"      {status} {text}")
        for key, detail in tally.failures.items():
            print(f"\n--- {key}\n{detail}")
        for error in tally.server_errors[:20]:
            print(f"\n*** {error}")
    assert not tally.server_errors, f"{len(tally.server_errors)} server errors"
    assert not tally.failures, f"{len(tally.failures)} kinds of check failure:\n" + "\n".join(tally.failures)
    # Every submission endpoint takes some body drawn from its schema: the schema describes what it takes.
    assert all(stored.values()), stored
    assert only or len(stored) == 6, f"expected the six submission endpoints, probed {sorted(stored)}"
