"""Fetch an image URL without letting it reach inside our network.

Refuses non-http(s) schemes and any host with an address in the IANA IPv4 or IPv6 special-purpose
address registries (tables below; for IPv6 also anything outside global unicast 2000::/3). Forms
that carry an IPv4 address inside them (IPv4-mapped, NAT64, 6to4, Teredo) are judged by that
IPv4 address. Each hop's host name is resolved once, every address it gives is checked, and the
connection goes to a checked address: a DNS answer that changes between the check and the
connect (rebinding) reaches nothing new. The Host header, TLS SNI and the certificate check still
use the name. Redirects are followed by hand, each hop checked the same way, and the download
stops at a size and a time limit. `allowed_networks` lets tests and trusted deployments open
specific ranges.
"""

import ipaddress
import socket
import time
from contextlib import closing
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import default_headers

MAX_REDIRECTS = 5

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IANA IPv4 Special-Purpose Address Registry: the blocks that are not globally reachable, plus
# multicast (224.0.0.0/4) and the limited broadcast address. First match names the refusal.
SPECIAL_IPV4 = tuple((ipaddress.IPv4Network(net), name) for net, name in (
    ("0.0.0.0/8", "'this network'"),
    ("10.0.0.0/8", "private-use"),
    ("100.64.0.0/10", "shared address space"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private-use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private-use"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "limited broadcast"),
    ("240.0.0.0/4", "reserved"),
))

# IANA IPv6 Special-Purpose Address Registry, the blocks not globally reachable, plus multicast.
# 2001::/23 is refused whole (its few globally reachable sub-blocks hold no image hosts), except
# Teredo 2001::/32, which is judged by the IPv4 addresses inside it (below). The local-use NAT64
# prefix 64:ff9b:1::/48 is refused whole: its operator chooses where the IPv4 address sits.
SPECIAL_IPV6 = tuple((ipaddress.IPv6Network(net), name) for net, name in (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    ("2001:db8::/32", "documentation"),
    ("2001::/23", "IETF protocol assignments"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing SIDs"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
))
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")


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
    networks = tuple(ipaddress.ip_network(net) for net in allowed_networks)
    for _ in range(MAX_REDIRECTS + 1):
        request = _prepare(url)
        address = _checked_address(request.url, networks)
        with closing(_PinnedAddressAdapter(address)) as adapter:
            response = _send(adapter, request, deadline)
            if not response.is_redirect:
                return _read_body(response, max_bytes=max_bytes, deadline=deadline)
            url = urljoin(url, response.headers.get("Location", ""))
            response.close()
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def address_refusal(address: IPAddress, *, allowed: tuple = ()) -> str | None:
    """Why a connection to `address` is refused (its registry entry), or None when it is public or
    inside one of the `allowed` networks."""
    if any(address in network for network in allowed):
        return None
    if address.version == 6:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            form, inner_addresses = embedded
            for inner in inner_addresses:
                reason = address_refusal(inner, allowed=allowed)
                if reason:
                    return f"{form} of {inner}, {reason}"
            return None
    for network, name in SPECIAL_IPV4 if address.version == 4 else SPECIAL_IPV6:
        if address in network:
            return f"{name}, {network}"
    if address.version == 6 and address not in GLOBAL_UNICAST_V6:
        return f"not global unicast, outside {GLOBAL_UNICAST_V6}"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, tuple[ipaddress.IPv4Address, ...]] | None:
    """The IPv4 addresses an IPv6 address reaches when it is one of the forms that embed them."""
    if address.ipv4_mapped:
        return "IPv4-mapped", (address.ipv4_mapped,)
    if address in NAT64_WELL_KNOWN:  # RFC 6052: the IPv4 address is the last 32 bits
        return "NAT64", (ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF),)
    if address.sixtofour:
        return "6to4", (address.sixtofour,)
    if address.teredo:  # (server, client): packets go through both
        return "Teredo", address.teredo
    return None


def _prepare(url: str) -> requests.PreparedRequest:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs are fetched, not '{parts.scheme or 'none'}'")
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    try:
        request = requests.Request("GET", url, headers=default_headers()).prepare()
    except requests.RequestException as error:
        raise FetchRefused(f"the URL is not valid ({error.__class__.__name__})") from None
    # The connection goes to an address, so the name travels in the Host header (IDNA-encoded,
    # as requests wrote it into the prepared URL).
    request.headers["Host"] = urlsplit(request.url).netloc.rpartition("@")[2]
    return request


def _checked_address(url: str, allowed: tuple) -> IPAddress:
    """Resolve the URL's host once, check every address it gives, and return the one to connect to."""
    parts = urlsplit(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise FetchRefused(f"the host '{host}' does not resolve") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    for address in addresses:
        reason = address_refusal(address, allowed=allowed)
        if reason:
            verb = "is" if _is_literal(host, address) else "resolves to"
            raise FetchRefused(f"the host '{host}' {verb} a non-public address ({address}: {reason})")
    return addresses[0]


def _is_literal(host: str, address: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host) == address
    except ValueError:
        return False


class _PinnedAddressAdapter(HTTPAdapter):
    """Connects to `address`, the one already checked, never to whatever the URL's host resolves
    to by now. TLS sends the URL's host name as SNI and checks the certificate against it."""

    def __init__(self, address: IPAddress):
        self.address = address
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = host_params["host"]
        host_params["host"] = str(self.address)
        return host_params, pool_kwargs


def _send(adapter: HTTPAdapter, request: requests.PreparedRequest, deadline: float) -> requests.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchRefused("the download ran past its time limit")
    try:
        # No proxies: the adapter is used directly, never a Session reading them from the environment.
        response = adapter.send(request, stream=True, timeout=min(remaining, 30))
    except requests.RequestException as error:
        raise FetchRefused(f"the download failed ({error.__class__.__name__})") from None
    if response.status_code >= 400:
        response.close()
        raise FetchRefused(f"the server answered HTTP {response.status_code}")
    return response


def _read_body(response: requests.Response, *, max_bytes: int, deadline: float) -> bytes:
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
