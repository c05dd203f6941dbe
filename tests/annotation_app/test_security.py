"""HTTP security: the Content-Security-Policy header and its report endpoint, X-Forwarded-* headers
believed only from trusted proxies, the API docs served without a CDN."""

import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from annotation_app.security.middleware import FORWARDED_HEADERS, TrustedProxyMiddleware
from tests.annotation_app.factories import UserFactory

pytestmark = pytest.mark.django_db

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
          "frame-ancestors 'none'; form-action 'self'; report-uri /csp-report/")
REPORT = {"csp-report": {"document-uri": "http://testserver/dashboard/", "effective-directive": "script-src-elem",
                         "blocked-uri": "inline", "source-file": "http://testserver/dashboard/", "line-number": 7,
                         "script-sample": "alert(1)"}}


@pytest.mark.parametrize("path", ["/login/", "/api/me/", "/csp-report/"])
def test_every_response_carries_the_policy(client, path):
    assert client.get(path)["Content-Security-Policy"] == POLICY


def test_media_on_s3_adds_its_endpoint_to_the_image_and_audio_sources(monkeypatch):
    from annotation_app.settings import security

    assert security._media_sources() == []  # local media come from /media/, this site
    monkeypatch.setattr(security, "PIXMO_STORAGE", "s3")
    monkeypatch.setattr(security, "AWS_S3_ENDPOINT_URL", "http://minio:9000/")
    assert security._media_sources() == ["http://minio:9000"]
    monkeypatch.setattr(security, "AWS_S3_ENDPOINT_URL", None)
    assert security._media_sources() == ["https://*.amazonaws.com"]


def test_a_violation_report_is_logged_without_a_csrf_token(caplog):
    client = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING, logger="pixmo.csp"):
        response = client.post("/csp-report/", json.dumps(REPORT), content_type="application/csp-report")
    assert response.status_code == 204
    [line] = [r.getMessage() for r in caplog.records if r.name == "pixmo.csp"]
    assert "effective-directive='script-src-elem'" in line and "script-sample='alert(1)'" in line


def test_reporting_api_reports_are_logged_too(client, caplog):
    report = [{"type": "csp-violation", "body": {"documentURL": "http://testserver/", "effectiveDirective": "img-src",
                                                 "blockedURL": "https://tracker.example/p.gif"}}]
    with caplog.at_level(logging.WARNING, logger="pixmo.csp"):
        response = client.post("/csp-report/", json.dumps(report), content_type="application/reports+json")
    assert response.status_code == 204
    assert any("blocked-uri='https://tracker.example/p.gif'" in r.getMessage() for r in caplog.records)


def test_an_oversized_report_is_refused_with_the_limit(client, settings, caplog):
    settings.PIXMO_CSP_REPORT_MAX_BYTES = 100
    with caplog.at_level(logging.WARNING, logger="pixmo.csp"):
        response = client.post("/csp-report/", json.dumps(REPORT), content_type="application/csp-report")
    assert response.status_code == 413
    assert response.json() == {"detail": "a CSP report is at most 100 bytes"}
    assert not [r for r in caplog.records if r.name == "pixmo.csp"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"other": 1}'])
def test_a_report_that_is_not_one_is_refused(client, body):
    response = client.post("/csp-report/", body, content_type="application/csp-report")
    assert response.status_code == 400
    assert "'csp-report' member" in response.json()["detail"]


def test_reports_are_posted(client):
    assert client.get("/csp-report/").status_code == 405


def test_api_docs_load_swagger_ui_from_our_static_files_and_no_inline_script(client):
    client.force_login(UserFactory())
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page and "<style>" not in page
    assert '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"></script>' in page
    assert "<script>" not in page
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"] == "application/javascript" and b"SwaggerUIBundle(" in script.content


def seen_headers(settings, remote_addr: str, trusted: list[str]) -> dict:
    """The forwarded headers a view behind the middleware sees, from a client at `remote_addr`."""
    settings.PIXMO_TRUSTED_PROXIES = trusted
    seen = {}
    middleware = TrustedProxyMiddleware(lambda request: seen.update(request.META) or "response")
    forwarded = {header: "x" for header in FORWARDED_HEADERS}
    middleware(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **forwarded))
    return {header: seen[header] for header in FORWARDED_HEADERS if header in seen}


def test_forwarded_headers_from_an_untrusted_client_are_dropped(settings):
    assert seen_headers(settings, "203.0.113.5", []) == {}
    assert seen_headers(settings, "203.0.113.5", ["10.0.0.0/8", "192.0.2.1"]) == {}
    assert seen_headers(settings, "", ["10.0.0.0/8"]) == {}  # a Unix socket: no address, no trust


@pytest.mark.parametrize("remote_addr", ["10.1.2.3", "192.0.2.1", "::ffff:10.9.9.9", "fd00::7"])
def test_forwarded_headers_from_a_trusted_proxy_are_kept(settings, remote_addr):
    assert seen_headers(settings, remote_addr, ["10.0.0.0/8", "192.0.2.1", "fd00::/8"]) == {
        header: "x" for header in FORWARDED_HEADERS}


def test_a_bad_trusted_proxy_entry_stops_startup(settings):
    settings.PIXMO_TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
    with pytest.raises(ImproperlyConfigured, match="PIXMO_TRUSTED_PROXIES: 'proxy.internal' is not an IP"):
        TrustedProxyMiddleware(lambda request: None)


def test_only_a_trusted_proxy_can_say_the_request_was_https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    settings.PIXMO_TRUSTED_PROXIES = ["10.0.0.2"]
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "evil.example"}

    from_anyone = Client(REMOTE_ADDR="203.0.113.5").get("/login/", **forwarded)
    assert from_anyone.status_code == 301 and from_anyone["Location"] == "https://testserver/login/"
    from_proxy = Client(REMOTE_ADDR="10.0.0.2").get("/login/", **forwarded)
    assert from_proxy.status_code == 200
