"""A corpus of bad inputs: each one is a 4xx whose JSON body says what is wrong (naming the limit
or the field), and none writes a row or a file.

Rows are grouped by what goes wrong: files, JSON, Unicode, coordinates, ids and query strings.
URL imports are refused by the import service itself (the one path that fetches URLs, run by
the `import_images` command): those rows check the refusal names the reason and nothing is
stored. The module ends by printing "bad inputs: N cases, M server errors".
"""

import io
import json
import struct
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from annotation_app.api import me
from annotation_app.errors import Conflict, PermissionDenied
from annotation_app.models import AskThread, Assignment, Image, Project
from annotation_app.services.ask import ask_thread_start
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.projects import project_create
from tests.annotation_app.factories import CompareItemFactory, ProjectFactory, WorkItemFactory, png_bytes

pytestmark = pytest.mark.django_db

ONE_MB = 1024 * 1024


@pytest.fixture(scope="module")
def tally(request):
    counts = Counter()
    yield counts
    line = f"bad inputs: {counts['cases']} cases, {counts['server_errors']} server errors"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown without -s, after the last case
        print(f"\n{line}")


# ---------------------------------------------------------------------------- the world

@pytest.fixture
def world(annotator, reviewer, admin_user):
    """One claimed assignment per project kind (images are 64×48 px) and an open ask thread."""
    points = WorkItemFactory(project=ProjectFactory(kind="points", labels=["cat"]))
    ask = WorkItemFactory(project=ProjectFactory(kind="ask"))
    caption = WorkItemFactory(project=ProjectFactory(kind="caption"))
    compare = CompareItemFactory().work_item
    ids = {kind: assignment_claim(annotator=annotator, project=item.project).pk
           for kind, item in (("points", points), ("ask", ask), ("caption", caption), ("compare", compare))}
    thread, _ = ask_thread_start(assignment=Assignment.objects.get(pk=ids["ask"]), annotator=annotator,
                                 question="What is in the image?", client_uuid=uuid.uuid4())
    users = {"annotator": annotator, "reviewer": reviewer, "admin": admin_user}
    return {**ids, "thread": thread.pk, "project": points.project_id, "users": users}


def snapshot(media_root) -> dict:
    """Rows of every model, each assignment's state, and every stored file."""
    files = sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()) \
        if media_root.exists() else []
    return {
        "rows": {m.__name__: m.objects.count() for m in apps.get_app_config("annotation_app").get_models()},
        "assignments": list(Assignment.objects.order_by("pk").values_list("pk", "status", "expires_at")),
        "threads": list(AskThread.objects.order_by("pk").values_list("pk", "status")),
        "files": files,
    }


# ---------------------------------------------------------------------------- the corpus

@dataclass(frozen=True)
class Case:
    path: str  # formatted with the world's ids
    request: dict  # keyword arguments for the APIClient method
    expect: str  # text the JSON answer must contain (case-insensitive)
    user: str = "annotator"
    method: str = "post"
    status: int | None = None
    settings: dict = field(default_factory=dict)


def as_json(value) -> dict:
    return {"data": json.dumps(value), "content_type": "application/json"}


def raw(body: bytes | str, content_type: str = "application/json") -> dict:
    return {"data": body, "content_type": content_type}


def form(**fields) -> dict:
    return {"data": fields, "format": "multipart"}


def upload(*files: tuple[str, bytes, str], **fields) -> dict:
    return form(files=[SimpleUploadedFile(name, data, content_type=kind) for name, data, kind in files], **fields)


def nested(depth: int):
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG header declaring width × height greyscale pixels (400 million by default)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
            + chunk(b"IEND", b""))


def point_set(**overrides) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "label": "cat", "points": [{"x_px": 10, "y_px": 10}], **overrides}


def points_body(**overrides) -> dict:
    return as_json({"point_sets": [point_set(**overrides)]})


def point_at(**point) -> dict:
    return points_body(points=[point])


def ask_body(points=None, **overrides) -> dict:
    body = {"client_uuid": str(uuid.uuid4()), "question": "What is here?", **overrides}
    if points is not None:
        body["points"] = points
    return as_json(body)


def project_body(**overrides) -> dict:
    return as_json({"name": "Cats", "slug": "cats", "kind": "points", **overrides})


POINTS = "/api/assignments/{points}/points/"
ASK = "/api/assignments/{ask}/ask/"
UPLOAD = "/api/images/upload/"
PROJECTS = "/api/projects/"
REVIEWS = "/api/reviews/"
PNG = png_bytes(64, 48)
MIB_5 = 5 * ONE_MB


def case(case_id: str, path: str, request: dict, expect: str, marks=(), **options):
    return pytest.param(Case(path=path, request=request, expect=expect, **options), id=case_id, marks=marks)


FILE_CASES = [
    case("not-an-image", UPLOAD, upload(("notes.png", b"hello, not an image", "image/png")),
         "not an image", user="admin"),
    case("svg-is-not-a-raster", UPLOAD, upload(("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>',
                                               "image/svg+xml")), "not an image", user="admin"),
    case("truncated-png", UPLOAD, upload(("cut.png", PNG[: len(PNG) // 2], "image/png")), "truncated", user="admin"),
    case("png-signature-only", UPLOAD, upload(("sig.png", PNG[:8], "image/png")), "not an image", user="admin"),
    case("decompression-bomb-dimensions", UPLOAD, upload(("bomb.png", bomb_png(), "image/png")),
         "64,000,000 pixels", user="admin"),
    case("zero-byte-file", UPLOAD, upload(("empty.png", b"", "image/png")), "empty", user="admin"),
    case("upload-as-json", UPLOAD, as_json({"files": ["a.png"]}), "unsupported media type", user="admin", status=415),
    case("upload-as-plain-text", UPLOAD, raw(PNG, "image/png"), "unsupported media type", user="admin", status=415),
    case("empty-post", UPLOAD, {}, "files", user="admin"),
    case("multipart-without-files", UPLOAD, form(license="CC0-1.0"), "files", user="admin"),
    case("files-field-is-text", UPLOAD, form(files="a.png"), "not a file", user="admin"),
    case("license-over-128-chars", UPLOAD, upload(("a.png", PNG, "image/png"), license="x" * 129), "128",
         user="admin"),
    case("topic-over-100-chars", UPLOAD, upload(("a.png", PNG, "image/png"), topics="t" * 101), "100", user="admin"),
    case("project-not-a-number", UPLOAD, upload(("a.png", PNG, "image/png"), project="cats"), "project",
         user="admin"),
    case("project-id-past-bigint", UPLOAD, upload(("a.png", PNG, "image/png"), project="99999999999999999999"),
         "project", user="admin"),
    case("project-id-negative", UPLOAD, upload(("a.png", PNG, "image/png"), project="-1"), "project", user="admin"),
    case("201-files-over-200-limit", UPLOAD,
         upload(*[(f"{n}.png", b"x", "image/png") for n in range(201)]), "at most 200 files", user="admin"),
    case("1001-form-fields", UPLOAD, upload(("a.png", PNG, "image/png"), topics=["t"] * 1001),
         "at most 1000 form fields", user="admin"),
    case("form-fields-over-5-mib", UPLOAD, upload(("a.png", PNG, "image/png"), license="x" * (MIB_5 + 1)),
         "5,242,880-byte limit", user="admin", status=413),
    case("recording-without-audio", "/api/assignments/{caption}/recordings/", form(client_uuid=str(uuid.uuid4())),
         "audio"),
    case("recording-audio-is-text", "/api/assignments/{caption}/recordings/",
         form(audio="not a file", client_uuid=str(uuid.uuid4())), "not a file"),
]

JSON_CASES = [
    case("nested-950-deep", POINTS, raw("[" * 950 + "]" * 950), "nested deeper than 32 levels"),
    case("nested-33-deep-inside-points", POINTS, as_json({"point_sets": nested(32)}), "nested deeper than 32"),
    case("nested-950-deep-on-projects", PROJECTS, raw('{"a":' * 950 + "1" + "}" * 950), "nested deeper than 32",
         user="admin"),
    case("nested-950-deep-on-reviews", REVIEWS, raw("[" * 950 + "]" * 950), "nested deeper than 32",
         user="reviewer"),
    case("unclosed-json", POINTS, raw('{"point_sets": ['), "malformed json"),
    case("two-json-documents", POINTS, raw("{} {}"), "malformed json"),
    case("single-quoted-json", POINTS, raw("{'point_sets': []}"), "malformed json"),
    case("top-level-array", POINTS, as_json([point_set()]), "expected a dictionary"),
    case("top-level-string", POINTS, as_json("cats"), "expected a dictionary"),
    case("point-sets-is-a-string", POINTS, as_json({"point_sets": "cats"}), "point_sets"),
    case("point-set-is-a-number", POINTS, as_json({"point_sets": [5]}), "dictionary"),
    case("finish-is-maybe", POINTS, as_json({"point_sets": [point_set()], "finish": "maybe"}), "finish"),
    case("client-uuid-not-a-uuid", POINTS, points_body(client_uuid="not-a-uuid"), "uuid"),
    case("client-uuid-is-a-number", POINTS, points_body(client_uuid=12345), "uuid"),
    case("label-is-a-list", POINTS, points_body(label=["cat"]), "label"),
    case("label-over-300-chars", POINTS, points_body(label="c" * 301), "300"),
    case("label-with-null-byte", POINTS, points_body(label="ca\u0000t"), "null"),
    case("label-lone-surrogate", POINTS, raw('{"point_sets": [{"label": "\\ud800"}]}'), "lone surrogate"),
    case("key-lone-surrogate", POINTS, raw('{"\\udfff": 1}'), "lone surrogate"),
    case("invalid-utf-8", POINTS, raw(b'{"point_sets": [{"label": "\xff\xfe"}]}'), "not valid utf-8"),
    case("nan-coordinate", POINTS, raw('{"point_sets": [{"points": [{"x_px": NaN, "y_px": 1}]}]}'),
         "nan is not a json number"),
    case("infinity-coordinate", POINTS, raw('{"point_sets": [{"points": [{"x_px": Infinity}]}]}'),
         "infinity is not a json number"),
    case("minus-infinity-coordinate", POINTS, raw('{"point_sets": [{"points": [{"x_px": -Infinity}]}]}'),
         "-infinity is not a json number"),
    case("float-overflow-1e400", POINTS, raw('{"point_sets": [{"points": [{"x_px": 1e400}]}]}'), "64-bit float"),
    case("integer-of-5000-digits", POINTS, raw('{"point_sets": [{"points": [{"x_px": ' + "9" * 5000 + "}]}]}"),
         "malformed json"),
    case("json-body-over-5-mib", POINTS, points_body(label="c" * (MIB_5 + 1)), "5,242,880-byte limit", status=413),
    case("101-point-sets", POINTS, as_json({"point_sets": [point_set() for _ in range(101)]}), "100"),
    case("501-points-in-a-set", POINTS, points_body(points=[{"x_px": 1, "y_px": 1}] * 501), "500"),
    case("question-over-2000-chars", ASK, ask_body(question="q" * 2001), "2000"),
    case("question-with-null-byte", ASK, ask_body(question="what\u0000is it"), "null"),
    case("question-blank", ASK, ask_body(question="   "), "blank"),
    case("feedback-over-2000-chars", "/api/ask-threads/{thread}/feedback/", as_json({"feedback": "f" * 2001}),
         "2000"),
    case("edited-answer-over-2000-chars", "/api/ask-threads/{thread}/accept/",
         as_json({"edited_answer": "a" * 2001}), "2000"),
    case("judgment-choice-unknown", "/api/assignments/{compare}/judgment/",
         as_json({"client_uuid": str(uuid.uuid4()), "choice": "middle"}), "not a valid choice"),
    case("judgment-choice-null", "/api/assignments/{compare}/judgment/",
         as_json({"client_uuid": str(uuid.uuid4()), "choice": None}), "may not be null"),
    case("report-reason-over-2000-chars", "/api/assignments/{points}/report/", as_json({"reason": "r" * 2001}),
         "2000"),
    case("review-decision-unknown", REVIEWS, as_json({"decision": "maybe", "caption": 1}), "not a valid choice",
         user="reviewer"),
    case("review-caption-id-negative", REVIEWS, as_json({"decision": "accept", "caption": -1}), "invalid pk",
         user="reviewer"),
    case("review-caption-id-past-bigint", REVIEWS, as_json({"decision": "accept", "caption": 2**70}), "invalid pk",
         user="reviewer"),
    case("review-caption-id-is-text", REVIEWS, as_json({"decision": "accept", "caption": "abc"}), "incorrect type",
         user="reviewer"),
    case("review-point-set-id-is-true", REVIEWS, as_json({"decision": "accept", "point_set": True}),
         "incorrect type", user="reviewer"),
    case("review-without-target", REVIEWS, as_json({"decision": "accept"}), "exactly one", user="reviewer"),
    case("image-ids-negative", "/api/projects/{project}/images/", as_json({"image_ids": [-1]}),
         "greater than or equal to 1", user="admin"),
    case("image-ids-past-bigint", "/api/projects/{project}/images/", as_json({"image_ids": [2**70]}),
         "less than or equal to", user="admin"),
    case("image-ids-is-a-string", "/api/projects/{project}/images/", as_json({"image_ids": "1,2"}),
         "expected a list", user="admin"),
    case("image-ids-empty", "/api/projects/{project}/images/", as_json({"image_ids": []}), "at least 1",
         user="admin"),
    case("project-min-over-target-duration", PROJECTS, project_body(min_duration_s=120, target_duration_s=90),
         "target_duration_s", user="admin"),
    case("project-target-over-max-duration", PROJECTS, project_body(target_duration_s=400, max_duration_s=300),
         "target_duration_s", user="admin"),
    case("project-min-over-max-duration", PROJECTS,
         project_body(min_duration_s=500, target_duration_s=500, max_duration_s=300), "max_duration_s",
         user="admin"),
    case("project-duration-over-an-hour", PROJECTS, project_body(max_duration_s=1e9), "3600", user="admin"),
    case("project-duration-nan-string", PROJECTS, project_body(min_duration_s="NaN"), "valid number", user="admin"),
    case("project-negative-duration", PROJECTS, project_body(min_duration_s=-1), "greater than or equal to 0",
         user="admin"),
    case("project-overlap-0", PROJECTS, project_body(overlap_k=0), "overlap_k", user="admin"),
    case("project-overlap-21", PROJECTS, project_body(overlap_k=21), "20", user="admin"),
    case("project-kind-unknown", PROJECTS, project_body(kind="video"), "not a valid choice", user="admin"),
    case("project-instructions-over-20000", PROJECTS, project_body(instructions="i" * 20_001), "20000",
         user="admin"),
]

UNICODE_CASES = [
    case("label-rtl-override", POINTS, points_body(label="\u202etac"), "U+202E"),
    case("label-zero-width-space", POINTS, points_body(label="c\u200bat"), "U+200B"),
    case("label-byte-order-mark", POINTS, points_body(label="\ufeffcat"), "U+FEFF"),
    case("label-newline-inside", POINTS, points_body(label="cat\ndog"), "U+000A"),
    case("label-10k-chars", POINTS, points_body(label="\u732b" * 10_000), "300"),
    case("ask-point-label-rtl-isolate", ASK, ask_body(points=[{"x": 10, "y": 10, "label": "\u2067sign\u2069"}]),
         "U+2067"),
    case("ask-point-label-over-100-chars", ASK, ask_body(points=[{"x": 10, "y": 10, "label": "l" * 101}]), "100"),
    case("project-name-rtl-override", PROJECTS, project_body(name="\u202eCats"), "U+202E", user="admin"),
    case("project-label-zero-width", PROJECTS, project_body(labels=["c\u200bat"]), "U+200B", user="admin"),
    case("project-slug-unicode", PROJECTS, project_body(slug="c\u0430ts"), "slug", user="admin"),
]

COORDINATE_CASES = [
    case("x-px-true", POINTS, point_at(x_px=True, y_px=1), "x_px must be a number, not a boolean"),
    case("y-px-false", POINTS, point_at(x_px=1, y_px=False), "y_px must be a number, not a boolean"),
    case("x-px-string", POINTS, point_at(x_px="12", y_px=1), "x_px must be a number, not a str"),
    case("x-px-word", POINTS, point_at(x_px="left", y_px=1), "x_px"),
    case("x-px-null", POINTS, point_at(x_px=None, y_px=1), "may not be null"),
    case("x-px-list", POINTS, point_at(x_px=[1], y_px=1), "x_px must be a number, not a list"),
    case("y-px-missing", POINTS, point_at(x_px=1), "y_px"),
    case("x-px-negative", POINTS, point_at(x_px=-1, y_px=1), "outside the 64×48 px image"),
    case("x-px-past-width", POINTS, point_at(x_px=65, y_px=1), "outside the 64×48 px image"),
    case("points-is-an-object", POINTS, points_body(points={"x_px": 1, "y_px": 1}), "expected a list"),
    case("ask-x-true", ASK, ask_body(points=[{"x": True, "y": 10}]), "x must be a number, not a boolean"),
    case("ask-y-string", ASK, ask_body(points=[{"x": 10, "y": "50"}]), "y must be a number, not a str"),
    case("ask-x-over-100-percent", ASK, ask_body(points=[{"x": 100.1, "y": 10}]), "0 to 100"),
    case("ask-x-negative-percent", ASK, ask_body(points=[{"x": -0.5, "y": 10}]), "0 to 100"),
    case("ask-y-missing", ASK, ask_body(points=[{"x": 10}]), "y"),
    case("ask-21-points", ASK, ask_body(points=[{"x": n, "y": n} for n in range(21)]), "at most 20 points"),
]

ID_AND_QUERY_CASES = [
    case("assignment-id-negative", "/api/assignments/-1/points/", points_body(), "no api endpoint", status=404),
    case("assignment-id-past-bigint", "/api/assignments/99999999999999999999/points/", points_body(),
         "does not exist", status=404),
    case("assignment-id-zero", "/api/assignments/0/points/", points_body(), "does not exist", status=404),
    case("project-id-is-a-word", "/api/projects/cats/", {}, "no api endpoint", method="get", status=404),
    case("unknown-api-path", "/api/nowhere/", {}, "no api endpoint", method="get", status=404),
    case("review-queue-project-superscript", "/api/review/queue/?project=\u00b2", {}, "project id",
         user="reviewer", method="get"),
    case("review-queue-project-negative", "/api/review/queue/?project=-5", {}, "greater than or equal to 1",
         user="reviewer", method="get"),
    case("image-topic-null-byte", "/api/images/?topic=%00", {}, "null", user="reviewer", method="get"),
    case("assignment-status-unknown", "/api/assignments/?status=bogus", {}, "not a valid choice", method="get"),
    case("release-status-null-byte", "/api/releases/?status=%00", {}, "not a valid choice", user="reviewer",
         method="get"),
    case("get-on-post-only-endpoint", REVIEWS, {}, "not allowed", user="reviewer", method="get", status=405),
]

ALL_CASES = FILE_CASES + JSON_CASES + UNICODE_CASES + COORDINATE_CASES + ID_AND_QUERY_CASES


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("bad", ALL_CASES)
def test_bad_input_is_a_4xx_with_a_json_message_and_writes_nothing(bad: Case, world, api_for, media_root, tally):
    before = snapshot(media_root)
    path = bad.path.format(**world)
    client = api_for(world["users"][bad.user])
    tally["cases"] += 1
    try:
        response = getattr(client, bad.method)(path, **bad.request)
    except Exception:
        tally["server_errors"] += 1  # the test client re-raises what would have been a 500
        raise
    if response.status_code >= 500:
        tally["server_errors"] += 1
    assert 400 <= response.status_code < 500, response.content[:500]
    if bad.status is not None:
        assert response.status_code == bad.status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert any(text.strip() for text in _strings(body)), body
    assert bad.expect.lower() in json.dumps(body, ensure_ascii=False).lower(), body
    assert snapshot(media_root) == before


def test_the_corpus_is_at_least_60_cases():
    assert len(ALL_CASES) + len(URL_CASES) >= 60


def test_json_at_the_depth_limit_is_parsed(world, api_for):
    """32 levels are allowed: the answer is about the point sets' shape, not about nesting."""
    response = api_for(world["users"]["annotator"]).post(
        POINTS.format(**world), **as_json({"point_sets": nested(31)}))
    assert response.status_code == 400 and "nested" not in response.content.decode()


# ---------------------------------------------------------------------------- URL import

@dataclass(frozen=True)
class UrlCase:
    url: str
    expect: str  # text the refusal reason must contain


def url_case(case_id: str, url: str, expect: str, marks=()):
    return pytest.param(UrlCase(url=url, expect=expect), id=case_id, marks=marks)


URL_CASES = [
    url_case("file-scheme", "file:///etc/passwd", "only http and https"),
    url_case("gopher-scheme", "gopher://127.0.0.1:6379/_INFO", "only http and https"),
    url_case("ftp-scheme", "ftp://ftp.example.com/cat.png", "only http and https"),
    url_case("localhost", "http://localhost/cat.png", "non-public address"),
    url_case("loopback-127-0-0-1", "http://127.0.0.1:8000/admin/", "non-public address"),
    url_case("loopback-short-form", "http://127.1/cat.png", "non-public address"),
    url_case("loopback-decimal", "http://2130706433/cat.png", "non-public address"),
    url_case("cloud-metadata", "http://169.254.169.254/latest/meta-data/", "non-public address"),
    url_case("ipv6-loopback", "http://[::1]/cat.png", "non-public address"),
    url_case("ipv4-mapped-loopback", "http://[::ffff:127.0.0.1]/cat.png", "non-public address"),
    url_case("this-network", "http://0.0.0.0/cat.png", "non-public address"),
    url_case("private-10", "http://10.0.0.1/cat.png", "non-public address"),
    url_case("unique-local-ipv6", "http://[fd00::1]/cat.png", "non-public address"),
    url_case("no-host", "http:///cat.png", "no host"),
    url_case("url-over-2048-chars", "http://example.com/" + "a" * 2100, "2,048-character limit"),
]


@pytest.mark.parametrize("bad", URL_CASES)
def test_url_import_refuses_with_its_reason_and_stores_nothing(bad: UrlCase, db, media_root, tmp_path, tally,
                                                               monkeypatch):
    monkeypatch.setattr(settings, "PIXMO_URL_FETCH_TIMEOUT_S", 3)  # a row the filter lets through fails fast
    url_file = tmp_path / "urls.txt"
    url_file.write_text(bad.url + "\n", encoding="utf-8")
    before = snapshot(media_root)
    errors = io.StringIO()
    tally["cases"] += 1
    try:
        with pytest.raises(CommandError, match="1 of 1 files were refused"):
            call_command("import_images", str(url_file), stdout=io.StringIO(), stderr=errors, verbosity=0)
    except Exception:
        tally["server_errors"] += 1
        raise
    assert bad.expect in errors.getvalue(), errors.getvalue()
    assert snapshot(media_root) == before and Image.objects.count() == 0


# ---------------------------------------------------------------------------- the same rules elsewhere

def test_the_project_service_and_admin_form_refuse_a_minimum_over_the_target(admin_user, rf):
    with pytest.raises(ValidationError, match="target duration must lie between"):
        project_create(name="Cats", slug="cats", kind="caption", min_duration_s=120, target_duration_s=90)
    request = rf.get("/admin/")
    request.user = admin_user
    form_class = admin.site._registry[Project].get_form(request)
    form = form_class(data={"name": "Cats", "slug": "cats", "kind": "caption", "overlap_k": 1,
                            "min_duration_s": 120, "target_duration_s": 90, "max_duration_s": 300,
                            "min_speech_ratio": 0.5, "language": "en", "labels": "[]",
                            "collection_method": "pointing"})
    assert not form.is_valid()
    assert "target duration must lie between" in str(form.errors)
    assert Project.objects.count() == 0


@pytest.mark.parametrize(("error", "status", "text"), [
    pytest.param(ValueError("invalid literal for int() with base 10: '²'"), 400, "bad value", id="value-error"),
    pytest.param(ValidationError({"slug": ["Enter a valid slug."]}), 400, "slug: Enter a valid slug.",
                 id="django-validation-error"),
    pytest.param(Conflict("already submitted"), 409, "already submitted", id="conflict"),
    pytest.param(PermissionDenied("not yours"), 403, "not yours", id="permission-denied"),
    pytest.param(Project.DoesNotExist("Project matching query does not exist."), 404, "does not exist",
                 id="does-not-exist"),
])
def test_errors_raised_in_an_api_view_answer_json(error, status, text, monkeypatch, api_for, annotator):
    def broken(self, request):
        raise error

    monkeypatch.setattr(me.MeApi, "get", broken)
    response = api_for(annotator).get("/api/me/")
    assert response.status_code == status and response["Content-Type"] == "application/json"
    assert text in response.json()["detail"]


def test_an_unexpected_failure_in_an_api_view_answers_json_500(monkeypatch, api_for, annotator):
    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(me.MeApi, "get", broken)
    client = api_for(annotator)
    client.raise_request_exception = False
    response = client.get("/api/me/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "the server failed on this request; the error is logged"}
