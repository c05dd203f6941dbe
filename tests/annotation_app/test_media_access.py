"""/media/: access follows the row that owns the normalised file name, never the path's spelling.

Every spelling of a path (dot segments, `..` through another folder, doubled slashes,
percent-encoded dots and slashes) serves what its normalised name serves: the right bytes to a
user who may see that row, 404 to everyone else. A path that names no row, or climbs out of the
media folder, is 404 for every role, reviewers and admins too.
"""

import uuid

import pytest
from django.core.files.base import ContentFile

from annotation_app.models import Recording
from annotation_app.services.assignments import assignment_claim
from tests.annotation_app.factories import ProjectFactory, WorkItemFactory

pytestmark = pytest.mark.django_db

# How a path to `folder/file` may be spelled; True: the spelling normalises to `folder/file`.
FORMS = {
    "plain": ("/media/{folder}/{file}", True),
    "dot segment": ("/media/./{folder}/{file}", True),
    "dot segment inside": ("/media/{folder}/./{file}", True),
    "dot-dot back into the folder": ("/media/{folder}/../{folder}/{file}", True),
    "dot-dot through the other folder": ("/media/{other}/../{folder}/{file}", True),
    "doubled slash": ("/media/{folder}//{file}", True),
    "leading doubled slash": ("/media//{folder}/{file}", True),
    "trailing dot": ("/media/{folder}/{file}/.", True),
    "percent-encoded dot": ("/media/%2e/{folder}/{file}", True),
    "percent-encoded dot-dot": ("/media/{other}/%2e%2e/{folder}/{file}", True),
    "percent-encoded slash": ("/media/{folder}%2f{file}", True),
    "double percent-encoded dot": ("/media/%252e/{folder}/{file}", False),  # names a folder called %2e
    "backslash": ("/media/{folder}\\{file}", False),
}
ROLES = ("anna", "otto", "rita", "adam")  # annotator, annotator, reviewer, admin


@pytest.fixture
def media(annotator, other_annotator, reviewer, admin_user, media_root):
    users = {"anna": annotator, "otto": other_annotator, "rita": reviewer, "adam": admin_user}
    open_project = ProjectFactory(kind="caption")  # no members: open to every annotator
    members_only = ProjectFactory(kind="caption")
    members_only.members.add(other_annotator)
    open_image = WorkItemFactory(project=open_project).image
    members_image = WorkItemFactory(project=members_only).image
    targets = {
        "anna's recording": _recording(annotator, open_project, b"anna's take"),
        "otto's recording": _recording(other_annotator, open_project, b"otto's take"),
        "image of an open project": _stored(open_image),
        "image of a members-only project": _stored(members_image),
    }
    (media_root / "recordings").mkdir(parents=True, exist_ok=True)
    (media_root / "recordings" / "stray.wav").write_bytes(b"a file no row owns")
    targets["file no row owns"] = ("recordings/stray.wav", b"a file no row owns", "")
    visible = {
        "anna's recording": {"anna", "rita", "adam"},
        "otto's recording": {"otto", "rita", "adam"},
        "image of an open project": set(ROLES),
        "image of a members-only project": {"otto", "rita", "adam"},
        "file no row owns": set(),
    }
    return users, targets, visible


def _recording(user, project, data: bytes) -> tuple[str, bytes, str]:
    WorkItemFactory(project=project)
    assignment = assignment_claim(annotator=user, project=project)
    recording = Recording.objects.create(
        assignment=assignment, work_item=assignment.work_item, annotator=user, client_uuid=uuid.uuid4(),
        sha256="0" * 64, mime="audio/wav", byte_size=len(data), file=ContentFile(data, name=f"{uuid.uuid4()}.wav"),
    )
    return recording.file.name, data, "audio/wav"


def _stored(image) -> tuple[str, bytes, str]:
    with image.file.open("rb") as handle:
        return image.file.name, handle.read(), image.mime


TARGETS = ("anna's recording", "otto's recording", "image of an open project", "image of a members-only project",
           "file no row owns")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", TARGETS)
def test_every_spelling_serves_the_rows_file_to_who_may_see_it_and_404_to_the_rest(client, media, target, role):
    users, targets, visible = media
    name, data, content_type = targets[target]
    folder, file = name.split("/")
    other = "images" if folder == "recordings" else "recordings"
    client.force_login(users[role])
    wrong = []
    for form, (template, normalises) in FORMS.items():
        url = template.format(folder=folder, file=file, other=other)
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.status_code == 200 else b""
        expected = 200 if normalises and role in visible[target] else 404
        if response.status_code != expected:
            wrong.append(f"{form} {url}: {response.status_code}, expected {expected}")
        elif expected == 200 and (body != data or response["Content-Type"] != content_type):
            wrong.append(f"{form} {url}: served {len(body)} bytes as {response['Content-Type']}, not the row's file")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("url", [
    "/media/../secret.txt", "/media/recordings/../../secret.txt", "/media/%2e%2e/secret.txt",
    "/media/images/%2e%2e/%2e%2e/secret.txt", "/media/..%2fsecret.txt", "/media//etc/passwd",
    "/media/../../../../etc/passwd", "/media/.", "/media/recordings/..",
])
def test_paths_out_of_the_media_folder_are_404_even_for_admins(client, admin_user, media_root, url):
    media_root.mkdir(parents=True, exist_ok=True)
    (media_root.parent / "secret.txt").write_bytes(b"outside the media folder")
    client.force_login(admin_user)
    assert client.get(url).status_code == 404


def test_a_row_whose_file_is_gone_is_404_and_visitors_are_sent_to_login(client, reviewer, media):
    _, targets, _ = media
    name = targets["anna's recording"][0]
    Recording.objects.get(file=name).file.delete(save=False)
    assert client.get(f"/media/{name}").status_code == 302  # not signed in: to the login page
    client.force_login(reviewer)
    assert client.get(f"/media/{name}").status_code == 404


def test_the_file_is_looked_up_in_one_query_per_model(client, annotator, media, django_assert_max_num_queries):
    _, targets, _ = media
    client.force_login(annotator)
    with django_assert_max_num_queries(4):  # session, user, recording, image
        assert client.get(f"/media/{targets['image of an open project'][0]}").status_code == 200
