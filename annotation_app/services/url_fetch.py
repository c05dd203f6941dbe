"""Fetch an image URL without letting it reach inside our network.

Refuses non-http(s) schemes and any host that resolves to a private, loopback, link-local,
multicast or reserved address — checked again at every redirect hop — and stops at a size and a
time limit. `allowed_networks` lets tests and trusted deployments open specific ranges.
"""

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 5


class FetchRefused(ValueError):
    """The URL may not be fetched, or the fetch failed; the message says why."""


def url_fetch(
    url: str,
    *,
    max_bytes: int,
    timeout_s: float,
    allowed_networks: tuple[str, ...] = (),
) -> bytes:
    deadline = time.monotonic() + timeout_s
    networks = [ipaddress.ip_network(net) for net in allowed_networks]
    with requests.Session() as session:
        session.trust_env = False  # never route through a proxy from the environment
        for _ in range(MAX_REDIRECTS + 1):
            _check_target(url, networks)
            response = _get(session, url, deadline)
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                response.close()
                continue
            return _read_body(response, url=url, max_bytes=max_bytes, deadline=deadline)
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def _check_target(url: str, networks: list) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs are fetched, not '{parts.scheme or 'none'}'")
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise FetchRefused(f"the host '{parts.hostname}' does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if any(address in net for net in networks):
            continue
        if not address.is_global or address.is_multicast:
            raise FetchRefused(f"the host '{parts.hostname}' is a non-public address ({address})")


def _get(session: requests.Session, url: str, deadline: float) -> requests.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchRefused("the download ran past its time limit")
    try:
        response = session.get(url, stream=True, allow_redirects=False, timeout=min(remaining, 30))
    except requests.RequestException as error:
        raise FetchRefused(f"the download failed ({error.__class__.__name__})") from None
    if response.status_code >= 400:
        response.close()
        raise FetchRefused(f"the server answered HTTP {response.status_code}")
    return response


def _read_body(response: requests.Response, *, url: str, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise FetchRefused(f"the file is {int(declared):,} bytes, over the {max_bytes:,}-byte limit")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise FetchRefused(f"the file is over the {max_bytes:,}-byte limit")
            if time.monotonic() > deadline:
                raise FetchRefused("the download ran past its time limit")
            chunks.append(chunk)
    except requests.RequestException as error:
        raise FetchRefused(f"the download failed ({error.__class__.__name__})") from None
    finally:
        response.close()
    return b"".join(chunks)
