"""Players know a recording's length: a WebM that states no duration (what Chromium's
MediaRecorder writes) is stored as received — the receipt, with its sha256 — and beside it as
the same packets in a WebM whose header states the length, which every player is given; /media/
answers byte ranges so the players can seek."""

import hashlib
import io
import uuid

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation_app.models import Recording
from devtools.speech import make_scene_speech, make_streamed_webm_opus, make_webm_opus
from pipelines.audio_decode import remux_with_duration
from tests.annotation_app.factories import ProjectFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("playback-speech")
    scene = make_scene_speech(folder / "scene.wav", seconds_min=12, sample_rate=48_000)
    return {
        "streamed": make_streamed_webm_opus(scene, folder / "streamed.webm").read_bytes(),
        "whole": make_webm_opus(scene, folder / "whole.webm").read_bytes(),
        "wav": scene.read_bytes(),
    }


def stated_seconds(data: bytes) -> float | None:
    with av.open(io.BytesIO(data)) as container:
        return None if container.duration is None else container.duration / 1e6


def packets(data: bytes) -> list[tuple[int, bytes]]:
    with av.open(io.BytesIO(data)) as container:
        return [(p.pts, bytes(p)) for p in container.demux(audio=0) if p.dts is not None]


def test_a_streamed_webm_is_remuxed_packet_for_packet_with_its_length_stated(clips):
    streamed = clips["streamed"]
    assert stated_seconds(streamed) is None  # what MediaRecorder writes
    remuxed = remux_with_duration(streamed)
    assert stated_seconds(remuxed) == pytest.approx(stated_seconds(clips["whole"]), abs=0.05)
    assert packets(remuxed) == packets(streamed)  # the same audio, nothing re-encoded
    assert remux_with_duration(clips["whole"]) is None  # already states its length
    assert remux_with_duration(clips["wav"]) is None  # not WebM


def signed_in(client, user):
    client.force_login(user)  # /media/ is for signed-in sessions, as the pages load it
    return client


def upload(api_for, annotator, data: bytes, content_type: str = "audio/webm"):
    item = WorkItemFactory(project=ProjectFactory(kind="caption", min_duration_s=5, target_duration_s=10))
    client = api_for(annotator)
    assignment = client.post(f"/api/projects/{item.project_id}/next/").json()
    audio = SimpleUploadedFile("take", data, content_type=content_type)
    response = client.post(f"/api/assignments/{assignment['id']}/recordings/",
                           {"audio": audio, "client_uuid": str(uuid.uuid4())})
    assert response.status_code == 201, response.content
    return response.json()


def test_the_receipt_is_kept_as_received_and_players_get_the_copy_that_states_its_length(api_for, client, annotator,
                                                                                         clips):
    answer = upload(api_for, annotator, clips["streamed"])
    recording = Recording.objects.get(pk=answer["id"])
    with recording.file.open("rb") as handle:
        receipt = handle.read()
    assert receipt == clips["streamed"]
    assert recording.sha256 == answer["sha256"] == hashlib.sha256(clips["streamed"]).hexdigest()
    assert recording.playback_file.name.endswith(".playback.webm")
    assert answer["audio_url"] == f"/media/{recording.playback_file.name}"

    served = signed_in(client, annotator).get(answer["audio_url"])
    assert served.status_code == 200 and served["Content-Type"] == "audio/webm"
    playback = b"".join(served.streaming_content)
    assert stated_seconds(playback) == pytest.approx(recording.duration_s, abs=0.1)


def test_a_file_that_states_its_length_is_played_as_it_came(api_for, annotator, clips):
    for data, content_type in ((clips["whole"], "audio/webm"), (clips["wav"], "audio/wav")):
        answer = upload(api_for, annotator, data, content_type)
        recording = Recording.objects.get(pk=answer["id"])
        assert not recording.playback_file
        assert answer["audio_url"] == f"/media/{recording.file.name}"


def test_the_copy_is_as_private_as_the_receipt(api_for, client, annotator, other_annotator, reviewer, clips):
    url = upload(api_for, annotator, clips["streamed"])["audio_url"]
    signed_in(client, other_annotator)
    assert client.get(url).status_code == 404
    assert client.get(url.replace("/media/", "/media/./")).status_code == 404
    assert signed_in(client, reviewer).get(url).status_code == 200


def test_media_answers_byte_ranges_so_players_can_seek(api_for, client, annotator, clips):
    url = upload(api_for, annotator, clips["streamed"])["audio_url"]
    signed_in(client, annotator)
    whole = b"".join(client.get(url).streaming_content)
    size = len(whole)

    for asked, start, end in (("bytes=0-", 0, size - 1), ("bytes=100-199", 100, 199), ("bytes=-50", size - 50, size - 1),
                              (f"bytes=10-{size * 2}", 10, size - 1)):
        response = client.get(url, HTTP_RANGE=asked)
        assert response.status_code == 206, asked
        assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert int(response["Content-Length"]) == end - start + 1
        assert b"".join(response.streaming_content) == whole[start:end + 1]

    past = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{size}"
    assert f"{size} bytes" in past.content.decode()
    several = client.get(url, HTTP_RANGE="bytes=0-1,5-6")  # not served as parts: the whole file
    assert several.status_code == 200 and several["Accept-Ranges"] == "bytes"
