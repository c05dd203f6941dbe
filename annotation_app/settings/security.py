"""HTTP security: the Content-Security-Policy every response carries, and which proxies may speak
for the client in X-Forwarded-* headers."""

from urllib.parse import urlsplit

from .env import env_list
from .storage import AWS_S3_ENDPOINT_URL, PIXMO_STORAGE

# Addresses or CIDR networks of the reverse proxies in front of the app. X-Forwarded-Proto,
# -For, -Host, -Port and Forwarded are dropped from every request whose REMOTE_ADDR is not one of
# them, so SECURE_PROXY_SSL_HEADER can only be asserted by a proxy. Empty: nobody.
PIXMO_TRUSTED_PROXIES = env_list("PIXMO_TRUSTED_PROXIES", [])


def _media_sources() -> list[str]:
    """Where the browser loads images and audio from besides this site: the S3 endpoint that
    presigned media links point at."""
    if PIXMO_STORAGE != "s3":
        return []
    if AWS_S3_ENDPOINT_URL:
        parts = urlsplit(AWS_S3_ENDPOINT_URL)
        return [f"{parts.scheme}://{parts.netloc}"]
    return ["https://*.amazonaws.com"]


PIXMO_CSP_MEDIA_SOURCES = env_list("PIXMO_CSP_MEDIA_SOURCES", _media_sources())

# Every page runs only scripts and styles from our static files: no inline script, event
# handler or style attribute, no outside host. blob: carries the recorder's own audio back to
# it; data: carries small inline images (Swagger UI's icons).
PIXMO_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:", *PIXMO_CSP_MEDIA_SOURCES],
    "media-src": ["'self'", "blob:", *PIXMO_CSP_MEDIA_SOURCES],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# Where browsers POST the violations they block; the view logs them.
PIXMO_CSP_REPORT_URI = "/csp-report/"
PIXMO_CSP_REPORT_MAX_BYTES = 16 * 1024
