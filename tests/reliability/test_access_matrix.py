"""The access matrix: every API operation and every page, for five roles, against a table.

The roles: anonymous; annotator A, who owns every id the URLs name; annotator B, acting on A's
ids; a reviewer; an admin (role admin, staff and superuser, as `pixmo demo` makes one). Only A
is a member of the members-only project; B, the reviewer and the admin are not.

What the table holds to (the way Label Studio and CVAT divide the work):
- the API answers 401 without credentials (a token is what it asks for); pages send the visitor
  to the login page;
- an annotator sees and changes only their own work, in projects open to them; another
  annotator's ids, and a members-only project they are not in, answer 404, so the answer never
  tells whether the row exists;
- reviewers see every project and every output and review them, but do not steer or submit an
  annotator's work (403: they may know it exists);
- admins administer (projects, images, releases, job retries, Django admin);
- nobody claims work in a members-only project without being a member, whatever their role: the
  claim endpoint and the task page answer 403 with a sentence saying why.

Each case runs on a fresh copy of the same seeded world (the test's transaction is rolled back),
with the real authentication: a DRF token for the API, a session login for pages. Writes send a
valid body, and a write whose answer says it was allowed must have changed the database while a
refused one must have changed nothing, so a refusal is about access and not about the body.
A test walks Django's URL resolver: a URL pattern the table does not list fails the suite.
The module ends by printing "access matrix: N operations x 5 roles = M cases, K mismatches".
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.views import APIView

from annotation_app.errors import PermissionDenied
from annotation_app.models import (
    AskThread,
    AskTurn,
    Assignment,
    DatasetRelease,
    Image,
    PipelineJob,
    PointSet,
    PreferenceJudgment,
    ProblemReport,
    Project,
    Recording,
    Review,
    User,
    WorkItem,
)
from annotation_app.models.ask import AskTurnRole, AskTurnStatus
from annotation_app.models.jobs import JobStatus
from annotation_app.services.ask import ask_thread_start
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.compare import judgment_submit
from annotation_app.services.points import PointSetInput, point_sets_submit
from annotation_app.services.recordings import recording_submit
from tests.annotation_app.factories import (
    CompareItemFactory,
    ImageFactory,
    ProjectFactory,
    UserFactory,
    WorkItemFactory,
    png_bytes,
    wav_bytes,
)

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"  # UserFactory's
ROLES = ("anonymous", "owner", "other", "reviewer", "admin")
LOGIN = "302 to login"  # a redirect to /login/?next=…
ADMIN_LOGIN = "302 to admin login"  # a redirect to /admin/login/?next=…


class Op(NamedTuple):
    method: str
    name: str  # the URL pattern's name
    target: str | None  # which seeded object fills the URL (see TARGETS)
    anonymous: int | str
    owner: int | str
    other: int | str
    reviewer: int | str
    admin: int | str


# ---------------------------------------------------------------------------------- the table

MATRIX = [Op(*row) for row in [
    # method  URL name                      target                     anonymous owner other reviewer admin
    # The API description is public, as CVAT's and Label Studio's are.
    ("GET",  "api-schema",                  None,                      200, 200, 200, 200, 200),
    ("GET",  "api-docs",                    None,                      200, 200, 200, 200, 200),
    ("GET",  "api-me",                      None,                      401, 200, 200, 200, 200),
    ("GET",  "api-projects",                None,                      401, 200, 200, 200, 200),
    ("POST", "api-projects",                None,                      401, 403, 403, 403, 201),
    ("GET",  "api-project",                 "members-only project",    401, 200, 404, 200, 200),
    ("GET",  "api-project",                 "open project",            401, 200, 200, 200, 200),
    ("POST", "api-project-images",          "members-only project",    401, 403, 403, 403, 200),
    ("POST", "api-project-next",            "members-only project",    401, 200, 404, 403, 403),
    ("POST", "api-project-next",            "open project",            401, 200, 200, 200, 200),
    # An assignment is a lease held by one annotator: only its holder addresses it.
    ("GET",  "api-assignments",             None,                      401, 200, 200, 200, 200),
    ("GET",  "api-assignment",              "A's caption assignment",  401, 200, 404, 404, 404),
    ("POST", "api-assignment-heartbeat",    "A's caption assignment",  401, 200, 404, 404, 404),
    ("POST", "api-assignment-skip",         "A's caption assignment",  401, 200, 404, 404, 404),
    ("POST", "api-assignment-report",       "A's caption assignment",  401, 201, 404, 404, 404),
    ("POST", "api-recordings",              "A's caption assignment",  401, 201, 404, 404, 404),
    ("POST", "api-points",                  "A's points assignment",   401, 201, 404, 404, 404),
    ("POST", "api-ask",                     "A's ask assignment",      401, 201, 404, 404, 404),
    ("POST", "api-judgment",                "A's compare assignment",  401, 201, 404, 404, 404),
    ("GET",  "api-assignment-ask-thread",   "A's ask assignment",      401, 200, 404, 404, 404),
    ("GET",  "api-assignment-position",     "A's caption assignment",  401, 200, 404, 404, 404),
    # Outputs: reviewers read them all; steering a thread stays with its annotator.
    ("GET",  "api-recording",               "A's recording",           401, 200, 404, 200, 200),
    ("GET",  "api-ask-thread",              "A's ask thread",          401, 200, 404, 200, 200),
    ("POST", "api-ask-feedback",            "A's ask thread",          401, 200, 404, 403, 403),
    ("POST", "api-ask-accept",              "A's ask thread",          401, 200, 404, 403, 403),
    ("GET",  "api-images",                  None,                      401, 403, 403, 200, 200),
    ("POST", "api-images-upload",           None,                      401, 403, 403, 403, 200),
    ("GET",  "api-review-queue",            None,                      401, 403, 403, 200, 200),
    ("POST", "api-reviews",                 None,                      401, 403, 403, 201, 201),
    ("GET",  "api-releases",                None,                      401, 403, 403, 200, 200),
    # Pages.
    ("GET",  "home",                        None,                      LOGIN, 200, 200, 200, 200),
    ("GET",  "login",                       None,                      200, 200, 200, 200, 200),
    ("POST", "logout",                      None,                      302, 302, 302, 302, 302),
    ("POST", "csp-report",                  None,                      204, 204, 204, 204, 204),
    ("GET",  "favicon",                     None,                      302, 302, 302, 302, 302),
    ("GET",  "media",                       "A's recording file",      LOGIN, 200, 404, 200, 200),
    ("GET",  "media",                       "members-only image",      LOGIN, 200, 404, 200, 200),
    ("GET",  "media",                       "open project image",      LOGIN, 200, 200, 200, 200),
    ("GET",  "ui-task",                     "members-only project",    LOGIN, 200, 404, 403, 403),
    ("GET",  "ui-task",                     "open project",            LOGIN, 200, 200, 200, 200),
    ("GET",  "dashboard:overview",          None,                      LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:review-index",      None,                      LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:review",            "members-only project",    LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:review-item",       "A's point set",           LOGIN, 403, 403, 200, 200),
    ("POST", "dashboard:review-decide",     "A's point set",           LOGIN, 403, 403, 302, 302),
    ("GET",  "dashboard:annotators",        None,                      LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:annotators-csv",    None,                      LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:pipeline",          None,                      LOGIN, 403, 403, 200, 200),
    ("POST", "dashboard:pipeline-retry",    "failed job",              LOGIN, 403, 403, 403, 302),
    ("GET",  "dashboard:quality",           None,                      LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:leaderboard",       None,                      LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:evaluation",        None,                      LOGIN, 403, 403, 200, 200),
    ("GET",  "dashboard:releases",          None,                      LOGIN, 403, 403, 200, 200),
    ("POST", "dashboard:release-cut",       None,                      LOGIN, 403, 403, 403, 302),
    ("POST", "dashboard:release-retry",     "failed release",          LOGIN, 403, 403, 403, 302),
    ("GET",  "dashboard:release-file",      "release file",            LOGIN, 403, 403, 200, 200),
    # Django admin, for data leads only (a few representative pages of it).
    ("GET",  "admin:index",                 None,            ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    ("GET",  "admin:annotation_app_project_changelist", None, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    ("GET",  "admin:annotation_app_project_change", "members-only project row",
                                                             ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    ("GET",  "admin:annotation_app_recording_changelist", None,
                                                             ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
    ("GET",  "admin:annotation_app_user_changelist", None,   ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200),
]]

CASES = [(op, role) for op in MATRIX for role in ROLES]


# ---------------------------------------------------------------------------------- the world

@dataclass
class World:
    users: dict[str, User | None]  # by role; anonymous is None
    members_project: Project  # caption, members = [A]; A's recording; open items
    open_project: Project  # caption, open to all; nobody holds anything in it
    caption_assignment: Assignment  # A's live lease in another open caption project
    points_assignment: Assignment  # A's live lease; A stored one point set on it (not finished)
    ask_assignment: Assignment  # A's live lease with an open thread whose answer is ready
    compare_assignment: Assignment  # A's live lease; A judged another item of the project
    recording: Recording
    point_set: PointSet
    thread: AskThread
    judgment: PreferenceJudgment
    members_image: Image
    open_image: Image
    spare_image: Image  # in no project
    failed_job: PipelineJob
    release: DatasetRelease
    release_key: str
    failed_release: DatasetRelease


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Every case logs its user in; the production hasher costs half a second a login.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def short_caption_project(**options) -> Project:
    # A 3 s tone is a valid recording here: the access rules do not depend on the duration floor.
    return ProjectFactory(kind="caption", min_duration_s=1.0, target_duration_s=2.0, **options)


def wav_file(name: str = "take.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(3.0), content_type="audio/wav")


@pytest.fixture
def world(annotator, other_annotator, reviewer, admin_user, tmp_path) -> World:
    admin_user.is_staff = admin_user.is_superuser = True  # as `pixmo demo` makes its admin
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    owner = annotator

    members_project = short_caption_project(name="Members only")
    members_project.members.add(owner)
    members_items = [WorkItemFactory(project=members_project) for _ in range(4)]
    earlier = assignment_claim(annotator=owner, project=members_project)
    recording, _ = recording_submit(assignment=earlier, annotator=owner, audio=wav_file(), client_uuid=uuid.uuid4())
    failed_job = PipelineJob.objects.get(target_type="recording", target_id=recording.pk, stage="validate")
    PipelineJob.objects.filter(pk=failed_job.pk).update(status=JobStatus.FAILED, error="decoder crashed")

    open_project = short_caption_project(name="Open")
    open_image = WorkItemFactory.create_batch(5, project=open_project)[0].image
    caption_assignment = assignment_claim(annotator=owner, project=WorkItemFactory(
        project=short_caption_project(name="Captions")).project)

    points_assignment = assignment_claim(annotator=owner, project=WorkItemFactory(
        project=ProjectFactory(kind="points", labels=["cat"])).project)
    [point_set], _ = point_sets_submit(assignment=points_assignment, annotator=owner, finish=False, point_sets=[
        PointSetInput(client_uuid=uuid.uuid4(), label="cat", points_px=[(10.0, 12.0)])])

    ask_assignment = assignment_claim(annotator=owner, project=WorkItemFactory(project=ProjectFactory(kind="ask")).project)
    thread, _ = ask_thread_start(assignment=ask_assignment, annotator=owner, client_uuid=uuid.uuid4(),
                                 question="What colour is the square?")
    # The answer the LLM worker would have written.
    AskTurn.objects.filter(thread=thread, role=AskTurnRole.ANSWER).update(status=AskTurnStatus.READY,
                                                                          text="The square is orange.")

    compare_project = ProjectFactory(kind="compare")
    CompareItemFactory.create_batch(2, work_item__project=compare_project)
    judged = assignment_claim(annotator=owner, project=compare_project)
    judgment, _ = judgment_submit(assignment=judged, annotator=owner, choice="left", client_uuid=uuid.uuid4())
    compare_assignment = assignment_claim(annotator=owner, project=compare_project)

    folder = tmp_path / "release"
    (folder / "data").mkdir(parents=True)
    release_key = "data/train-00000-of-00001.parquet"
    (folder / release_key).write_bytes(b"PAR1")
    release = DatasetRelease.objects.create(name="matrix-v1", datasets=["pixmo-cap"], uri=str(folder),
                                            status="complete", progress=1.0,
                                            manifest={"files": {release_key: {"sha256": "00", "bytes": 4}}})
    return World(
        users={"anonymous": None, "owner": owner, "other": other_annotator, "reviewer": reviewer, "admin": admin_user},
        members_project=members_project, open_project=open_project, caption_assignment=caption_assignment,
        points_assignment=points_assignment, ask_assignment=ask_assignment, compare_assignment=compare_assignment,
        recording=recording, point_set=point_set, thread=thread, judgment=judgment,
        members_image=members_items[-1].image, open_image=open_image, spare_image=ImageFactory(),
        failed_job=failed_job, release=release, release_key=release_key,
        failed_release=DatasetRelease.objects.create(name="matrix-failed", datasets=["pixmo-cap"],
                                                     uri=str(tmp_path / "failed"), status="failed",
                                                     error="OSError: disk full"),
    )


# What fills each target's URL.
TARGETS = {
    None: lambda w: {},
    "members-only project": lambda w: {"project_id": w.members_project.pk},
    "open project": lambda w: {"project_id": w.open_project.pk},
    "members-only project row": lambda w: {"object_id": str(w.members_project.pk)},  # Django admin's
    "A's caption assignment": lambda w: {"assignment_id": w.caption_assignment.pk},
    "A's points assignment": lambda w: {"assignment_id": w.points_assignment.pk},
    "A's ask assignment": lambda w: {"assignment_id": w.ask_assignment.pk},
    "A's compare assignment": lambda w: {"assignment_id": w.compare_assignment.pk},
    "A's recording": lambda w: {"recording_id": w.recording.pk},
    "A's ask thread": lambda w: {"thread_id": w.thread.pk},
    "A's recording file": lambda w: {"path": w.recording.file.name},
    "members-only image": lambda w: {"path": w.members_image.file.name},
    "open project image": lambda w: {"path": w.open_image.file.name},
    "A's point set": lambda w: {"project_id": w.point_set.work_item.project_id, "target_id": w.point_set.pk},
    "failed job": lambda w: {"job_id": w.failed_job.pk},
    "release file": lambda w: {"release_id": w.release.pk, "key": w.release_key},
    "failed release": lambda w: {"release_id": w.failed_release.pk},
}

# A valid body for each write: keyword arguments of the test client's post().
BODIES = {
    "api-projects": lambda w: {"data": {"name": "New", "slug": "matrix-new", "kind": "caption"}, "format": "json"},
    "api-project-images": lambda w: {"data": {"image_ids": [w.spare_image.pk]}, "format": "json"},
    "api-assignment-report": lambda w: {"data": {"reason": "the image is blank"}, "format": "json"},
    "api-recordings": lambda w: {"data": {"audio": wav_file(), "client_uuid": str(uuid.uuid4())},
                                 "format": "multipart"},
    "api-points": lambda w: {"data": {"point_sets": [{"client_uuid": str(uuid.uuid4()), "label": "cat",
                                                      "points": [{"x_px": 20, "y_px": 30}]}]}, "format": "json"},
    "api-ask": lambda w: {"data": {"client_uuid": str(uuid.uuid4()), "question": "Is there a cat?"},
                          "format": "json"},
    "api-judgment": lambda w: {"data": {"client_uuid": str(uuid.uuid4()), "choice": "right"}, "format": "json"},
    "api-ask-feedback": lambda w: {"data": {"feedback": "Say where the square is."}, "format": "json"},
    "api-ask-accept": lambda w: {"data": {}, "format": "json"},
    "api-images-upload": lambda w: {"data": {"files": [SimpleUploadedFile("new.png", png_bytes(70, 50, (1, 2, 3)),
                                                                          content_type="image/png")]},
                                    "format": "multipart"},
    "api-reviews": lambda w: {"data": {"point_set": w.point_set.pk, "decision": "accept"}, "format": "json"},
    "csp-report": lambda w: {"data": b'{"csp-report": {"document-uri": "http://testserver/", '
                                     b'"effective-directive": "img-src", "blocked-uri": "https://example.org/x.png"}}',
                             "content_type": "application/csp-report"},
    "dashboard:review-decide": lambda w: {"data": {"decision": "accept"}},
    "dashboard:release-cut": lambda w: {"data": {"name": "matrix-cut", "datasets": ["pixmo-cap"]}},
}


def _assignments_held(w: World, user: User | None, project_id: int) -> int:
    return Assignment.objects.filter(project_id=project_id, annotator=user).count() if user else 0


# What each write changes: a snapshot taken before and after the request. An answer that says
# the write was allowed must come with a changed snapshot; a refusal with the same snapshot.
EFFECTS = {
    "api-projects": lambda w, user, kwargs: Project.objects.filter(slug="matrix-new").exists(),
    "api-project-images": lambda w, user, kwargs: WorkItem.objects.filter(image=w.spare_image).exists(),
    "api-project-next": lambda w, user, kwargs: _assignments_held(w, user, kwargs["project_id"]),
    "api-assignment-heartbeat": lambda w, user, kwargs: Assignment.objects.get(pk=kwargs["assignment_id"]).heartbeat_at,
    "api-assignment-skip": lambda w, user, kwargs: Assignment.objects.get(pk=kwargs["assignment_id"]).status,
    "api-assignment-report": lambda w, user, kwargs: ProblemReport.objects.count(),
    "api-recordings": lambda w, user, kwargs: Recording.objects.count(),
    "api-points": lambda w, user, kwargs: PointSet.objects.count(),
    "api-ask": lambda w, user, kwargs: AskThread.objects.count(),
    "api-judgment": lambda w, user, kwargs: PreferenceJudgment.objects.count(),
    "api-ask-feedback": lambda w, user, kwargs: AskTurn.objects.filter(thread=w.thread).count(),
    "api-ask-accept": lambda w, user, kwargs: AskThread.objects.get(pk=w.thread.pk).status,
    "api-images-upload": lambda w, user, kwargs: Image.objects.count(),
    "api-reviews": lambda w, user, kwargs: Review.objects.count(),
    "dashboard:review-decide": lambda w, user, kwargs: Review.objects.count(),
    "dashboard:pipeline-retry": lambda w, user, kwargs: PipelineJob.objects.get(pk=w.failed_job.pk).resends,
    "dashboard:release-cut": lambda w, user, kwargs: DatasetRelease.objects.count(),
    "dashboard:release-retry": lambda w, user, kwargs: DatasetRelease.objects.get(pk=w.failed_release.pk).resends,
}


# ---------------------------------------------------------------------------------- the cases

def client_for(role: str, user: User | None, *, api: bool):
    """The API is called with the user's DRF token; pages through a session login."""
    if api:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client
    client = Client()
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD), role
    return client


def status_of(response) -> int | str:
    """The status as the table writes it: a redirect to a login page is named, not numbered."""
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(reverse("admin:login") + "?next="):
        return ADMIN_LOGIN
    if response.status_code == 302 and location.startswith(reverse("login") + "?next="):
        return LOGIN
    return response.status_code


def allowed(status: int | str) -> bool:
    """A 2xx, or the redirect a page sends after it carried out a form."""
    return isinstance(status, int) and (200 <= status < 300 or status == 302)


@pytest.fixture(scope="module")
def tally(request):
    counts = Counter()
    yield counts
    operations = len({op for op, _ in CASES if (op, "seen") in counts})
    line = (f"access matrix: {operations} operations x {len(ROLES)} roles = {counts['cases']} cases, "
            f"{counts['mismatches']} mismatches")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown without -s, after the last case
        print(f"\n{line}")


def case_id(case) -> str:
    op, role = case
    return f"{op.method} {op.name}{f' [{op.target}]' if op.target else ''} as {role}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_access(case, world, tally):
    op, role = case
    user = world.users[role]
    api = op.name.startswith("api-")
    client = client_for(role, user, api=api)
    kwargs = TARGETS[op.target](world)
    url = reverse(op.name, kwargs=kwargs)
    effect = EFFECTS.get(op.name) if op.method == "POST" else None
    before = effect(world, user, kwargs) if effect else None
    body = BODIES.get(op.name, lambda w: {})(world) if op.method == "POST" else {}
    response = getattr(client, op.method.lower())(url, **body)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # read and close the file a download opened
        response.close()
    status = status_of(response)
    expected = getattr(op, role)
    changed = effect(world, user, kwargs) != before if effect else None
    tally["cases"] += 1
    tally[(op, "seen")] += 1
    mismatch = status != expected or (effect is not None and changed != allowed(status))
    tally["mismatches"] += mismatch
    detail = response.content[:300] if not getattr(response, "streaming", False) else b"(file)"
    assert status == expected, f"{case_id(case)}: got {status}, the table says {expected}: {detail!r}"
    if effect is not None:
        assert changed == allowed(status), f"{case_id(case)}: answered {status} but the write " \
                                           f"{'did not happen' if allowed(status) else 'happened'}: {detail!r}"
    if api and isinstance(status, int) and status >= 400:
        assert isinstance(response.json().get("detail"), str) and response.json()["detail"], detail


# ---------------------------------------------------------------------------------- the table is complete

def url_names(patterns, prefix: str = ""):
    """(qualified name, view) for every URL pattern under these, including included ones."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from url_names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern):
            yield (f"{prefix}{pattern.name}" if pattern.name else f"{prefix}<unnamed {pattern.pattern}>",
                   pattern.callback)


def test_the_table_lists_every_url_pattern():
    routes = dict(url_names(get_resolver().url_patterns))
    listed = {op.name for op in MATRIX}
    ours = {name for name in routes if not name.startswith("admin:")}
    assert ours - listed == set(), "URL patterns the access matrix does not list"
    assert listed - set(routes) == set(), "the access matrix lists URL names that do not exist"
    assert {name for name in listed if name.startswith("admin:")}, "no Django admin page is covered"


def test_the_table_lists_every_method_of_each_api_view():
    routes = dict(url_names(get_resolver().url_patterns))
    for name, view in routes.items():
        view_class = getattr(view, "cls", None)
        if view_class is None or not issubclass(view_class, APIView):
            continue
        handled = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}
        assert handled == {op.method for op in MATRIX if op.name == name}, name


def test_the_table_names_only_known_statuses():
    for op in MATRIX:
        assert op.target in TARGETS, op
        assert op.method in ("GET", "POST"), op
        if op.method == "POST" and op.name in BODIES:
            assert op.name in EFFECTS or op.name == "csp-report", f"{op.name}: a write with no effect to check"


# ---------------------------------------------------------------------------------- what lists show

def test_lists_show_each_role_only_what_it_may_see(world):
    """The statuses above say who may call a list; these say what the list holds for each."""
    owner, other, reviewer = (world.users[r] for r in ("owner", "other", "reviewer"))

    def projects(user):
        return {p["id"] for p in client_for("", user, api=True).get(reverse("api-projects")).json()}

    def assignments(user):
        return {a["id"] for a in client_for("", user, api=True).get(reverse("api-assignments")).json()}

    assert world.members_project.pk in projects(owner) and world.members_project.pk not in projects(other)
    assert world.members_project.pk in projects(reviewer)  # reviewers review every project
    assert world.caption_assignment.pk in assignments(owner)
    assert assignments(other) == set() and assignments(reviewer) == set()
    # The home page offers work only where it may be claimed.
    for user, shown in ((owner, True), (other, False), (reviewer, False), (world.users["admin"], False)):
        html = client_for("", user, api=False).get(reverse("home")).content.decode()
        assert (reverse("ui-task", args=[world.members_project.pk]) in html) is shown, user.username
        assert reverse("ui-task", args=[world.open_project.pk]) in html, user.username


# ---------------------------------------------------------------------------------- the claim rule

@pytest.mark.parametrize("role", ["annotator", "reviewer", "admin"])
def test_claims_in_a_members_only_project_need_membership(role, db):
    """The service refuses a non-member whatever the role, names why, and takes no slot; a
    member of any role claims."""
    project = ProjectFactory(name="Members only", slug="members-only")
    item = WorkItemFactory(project=project)
    project.members.add(UserFactory(role="annotator"))
    outsider = UserFactory(role=role, is_superuser=role == "admin", is_staff=role == "admin")
    with pytest.raises(PermissionDenied, match="project 'members-only' is open to its members only"):
        assignment_claim(annotator=outsider, project=project)
    item.refresh_from_db()
    assert item.open_slots == 1 and not Assignment.objects.filter(annotator=outsider).exists()

    project.members.add(outsider)
    assignment = assignment_claim(annotator=outsider, project=project)
    assert assignment.work_item_id == item.pk and assignment.annotator_id == outsider.pk


def test_a_project_with_no_members_is_open_to_every_role(db):
    project = ProjectFactory()
    WorkItemFactory.create_batch(3, project=project)
    for role in ("annotator", "reviewer", "admin"):
        assert assignment_claim(annotator=UserFactory(role=role), project=project).project_id == project.pk


def test_the_claim_refusal_is_a_403_sentence(world):
    client = client_for("reviewer", world.users["reviewer"], api=True)
    response = client.post(reverse("api-project-next", args=[world.members_project.pk]))
    assert response.status_code == 403
    assert response.json() == {"detail": f"project '{world.members_project.slug}' is open to its members only, "
                                         "and you are not one of them; an admin can add you"}
