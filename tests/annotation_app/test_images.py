import http.server
import io
import socket
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest
from PIL import Image as PILImage

from annotation_app.models import Image, WorkItem
from annotation_app.services.image_decode import ImageRefused, image_decode
from annotation_app.services.images import (
    image_sources_from_folder,
    image_sources_from_s3,
    image_sources_from_url_file,
    images_import,
)
from annotation_app.services.url_fetch import FetchRefused, url_fetch
from tests.annotation_app.factories import ProjectFactory, png_bytes

pytestmark = pytest.mark.django_db


def jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    image = PILImage.new("RGB", (width, height), (10, 120, 200))
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def image_folder(tmp_path) -> Path:
    root = tmp_path / "photos"
    (root / "animals" / "cats").mkdir(parents=True)
    (root / "kitchen").mkdir()
    (root / "animals" / "cats" / "a.png").write_bytes(png_bytes(40, 30, (255, 0, 0)))
    (root / "kitchen" / "b.png").write_bytes(png_bytes(50, 20, (0, 255, 0)))
    (root / "kitchen" / "copy-of-b.png").write_bytes(png_bytes(50, 20, (0, 255, 0)))
    (root / "kitchen" / "rotated.jpg").write_bytes(jpeg_with_orientation(60, 20, orientation=6))
    (root / "notes.png").write_bytes(b"this is text, not an image")
    (root / "cut.png").write_bytes(png_bytes(300, 300, (1, 2, 3))[:200])
    return root


def test_folder_import_verifies_dedupes_and_takes_topics_from_folders(image_folder, admin_user):
    project = ProjectFactory(kind="caption", overlap_k=2)
    summary = images_import(
        sources=image_sources_from_folder(root=image_folder), imported_by=admin_user, project=project
    )
    assert len(summary.imported) == 3
    assert len(summary.duplicates) == 1
    refused = dict(summary.refused)
    assert "not an image" in refused[str(image_folder / "notes.png")]
    assert "damaged or truncated" in refused[str(image_folder / "cut.png")]
    cat = Image.objects.get(source_name__endswith="a.png")
    assert cat.topics == ["animals", "cats"] and (cat.width, cat.height) == (40, 30)
    rotated = Image.objects.get(source_name__endswith="rotated.jpg")
    assert (rotated.width, rotated.height) == (20, 60)  # EXIF orientation 6 applied
    assert WorkItem.objects.filter(project=project, open_slots=2).count() == 3
    # Importing again adds nothing.
    again = images_import(sources=image_sources_from_folder(root=image_folder), project=project)
    assert (len(again.imported), len(again.duplicates)) == (0, 4)
    assert WorkItem.objects.filter(project=project).count() == 3


def test_decompression_bomb_is_refused_with_the_limit():
    with pytest.raises(ImageRefused, match="more than 1,000 pixels"):
        image_decode(data=png_bytes(40, 30), max_bytes=10**6, max_pixels=1000)


def test_oversized_file_is_refused_with_the_limit():
    with pytest.raises(ImageRefused, match="over the 100-byte limit"):
        image_decode(data=png_bytes(40, 30), max_bytes=100, max_pixels=10**6)


@pytest.fixture
def http_server(tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "ok.png").write_bytes(png_bytes(30, 30, (9, 9, 9)))
    (tmp_path / "www" / "big.png").write_bytes(png_bytes(30, 30) + b"\0" * 5000)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path / "www"), **kwargs)

        def do_GET(self):
            redirects = {
                "/to-metadata": "http://169.254.169.254/latest/meta-data",
                "/to-private": "http://10.0.0.8/x.png",
                "/to-ftp": "ftp://example.org/x.png",
                "/to-ok": "/ok.png",
            }
            if self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path])
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_url_fetch_refuses_loopback_unless_allowed(http_server):
    with pytest.raises(FetchRefused, match="non-public address"):
        url_fetch(f"{http_server}/ok.png", max_bytes=10**6, timeout_s=5)
    data = url_fetch(f"{http_server}/to-ok", max_bytes=10**6, timeout_s=5, allowed_networks=("127.0.0.0/8",))
    assert data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/to-metadata", "non-public address"),
        ("/to-private", "non-public address"),
        ("/to-ftp", "only http and https"),
        ("/big.png", "over the 1,000-byte limit"),
        ("/missing.png", "HTTP 404"),
    ],
)
def test_url_fetch_refuses_unsafe_redirects_and_limits(http_server, path, message):
    with pytest.raises(FetchRefused, match=message):
        url_fetch(f"{http_server}{path}", max_bytes=1000, timeout_s=5, allowed_networks=("127.0.0.0/8",))


def test_url_file_import_reads_csv_with_licence_and_topics(http_server, tmp_path, settings):
    settings.PIXMO_URL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    listing = tmp_path / "urls.csv"
    listing.write_text(
        "url,license,topics\n"
        f"{http_server}/ok.png,CC-BY-4.0,street;night\n"
        "file:///etc/passwd,,\n"
    )
    summary = images_import(sources=image_sources_from_url_file(path=listing))
    assert len(summary.imported) == 1
    image = summary.imported[0]
    assert image.license == "CC-BY-4.0" and image.topics == ["street", "night"]
    assert image.source_url.endswith("/ok.png")
    assert "only http and https" in dict(summary.refused)["file:///etc/passwd"]


@pytest.fixture(scope="module")
def s3_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("moto_server did not start")
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


def test_s3_prefix_import_through_a_real_s3_protocol_server(s3_server, settings):
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "test"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket="photos")
    client.put_object(Bucket="photos", Key="batch1/birds/one.png", Body=png_bytes(20, 20, (1, 1, 1)))
    client.put_object(Bucket="photos", Key="batch1/two.png", Body=png_bytes(21, 20, (2, 2, 2)))
    client.put_object(Bucket="photos", Key="batch1/readme.txt", Body=b"skip me")
    client.put_object(Bucket="photos", Key="other/three.png", Body=png_bytes(22, 20, (3, 3, 3)))
    summary = images_import(sources=image_sources_from_s3(uri="s3://photos/batch1/"))
    assert len(summary.imported) == 2 and not summary.refused
    birds = Image.objects.get(source_name="s3://photos/batch1/birds/one.png")
    assert birds.topics == ["birds"]
