"""The image URL fetch: special-purpose addresses refused, each hop resolved once and connected to
the address that was checked (real HTTP and HTTPS servers on loopback)."""

import datetime
import http.server
import ipaddress
import socket
import ssl
import threading

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from annotation_app.services.url_fetch import (
    FetchRefused,
    _PinnedAddressAdapter,
    address_refusal,
    url_fetch,
)

REFUSED = [
    ("0.1.2.3", "'this network'"), ("10.0.0.8", "private-use"), ("100.64.0.1", "shared address space"),
    ("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"), ("172.16.5.5", "private-use"),
    ("192.0.0.8", "IETF protocol assignments"), ("192.0.2.1", "TEST-NET-1"), ("192.88.99.1", "6to4 relay"),
    ("192.168.1.1", "private-use"), ("198.18.0.1", "benchmarking"), ("198.51.100.7", "TEST-NET-2"),
    ("203.0.113.9", "TEST-NET-3"), ("224.0.0.251", "multicast"), ("240.0.0.1", "reserved"),
    ("255.255.255.255", "limited broadcast"),
    ("::", "unspecified"), ("::1", "loopback"), ("::7f00:1", "not global unicast"),
    ("::ffff:127.0.0.1", "IPv4-mapped of 127.0.0.1, loopback"),
    ("::ffff:10.1.2.3", "IPv4-mapped of 10.1.2.3, private-use"),
    ("64:ff9b::7f00:1", "NAT64 of 127.0.0.1, loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254, link-local"),
    ("64:ff9b:1::a00:1", "local-use NAT64"), ("64:ff9b:1::808:808", "local-use NAT64"),
    ("100::1", "discard-only"), ("2001:4:112::1", "IETF protocol assignments"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo of 127.0.0.1, loopback"),  # client 127.0.0.1
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "Teredo of 10.0.0.1, private-use"),  # server 10.0.0.1
    ("2001:db8::1", "documentation"), ("3fff::1", "documentation"),
    ("2002:7f00:1::1", "6to4 of 127.0.0.1, loopback"), ("2002:c0a8:101::1", "6to4 of 192.168.1.1"),
    ("5f00::1", "segment routing"), ("fd00::1", "unique-local"), ("fe80::1", "link-local"),
    ("ff02::1", "multicast"),
]
PUBLIC = ["8.8.8.8", "151.101.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
          "2002:808:808::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"]  # Teredo: server and client public


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_special_purpose_addresses_are_refused(address, reason):
    assert reason in (address_refusal(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:7f00:1::1", "64:ff9b:1::a00:1",
                                     "2001:0:4136:e378:8000:63bf:80ff:fffe", "::ffff:127.0.0.1"])
def test_url_fetch_refuses_ipv6_forms_of_internal_addresses_before_connecting(address):
    with pytest.raises(FetchRefused, match=r"is a non-public address"):
        url_fetch(f"http://[{address}]:9/x.png", max_bytes=1000, timeout_s=5)


def test_allowed_networks_open_the_embedded_ipv4_address_too():
    loopback = (ipaddress.ip_network("127.0.0.0/8"),)
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allowed=loopback) is None
    assert address_refusal(ipaddress.ip_address("::ffff:10.0.0.1"), allowed=loopback)


class Recorder:
    """A loopback HTTP server that answers /ok.png with `body`, and records each request's Host."""

    def __init__(self, address: str, body: bytes, redirects: dict[str, str] | None = None, port: int = 0):
        self.hosts, recorder = [], self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.hosts.append(self.headers.get("Host"))
                if self.path in (redirects or {}):
                    self.send_response(302)
                    self.send_header("Location", redirects[self.path])
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((address, port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    started = []

    def start(address: str, body: bytes, **kwargs) -> Recorder:
        started.append(Recorder(address, body, **kwargs))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def rebinding_dns(monkeypatch):
    """A DNS that answers names ending in `.test` as an attacker's would: the first lookup of a
    name gets the address in `first`, every later one the address in `then`. Counts lookups."""
    real = socket.getaddrinfo
    answers = {"first": {}, "then": {}, "lookups": {}}

    def getaddrinfo(host, port, *args, **kwargs):
        if not str(host).endswith(".test"):
            return real(host, port, *args, **kwargs)
        count = answers["lookups"][host] = answers["lookups"].get(host, 0) + 1
        address = answers["first" if count == 1 else "then"][host]
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_name_that_resolves_to_loopback_is_refused(servers):
    server = servers("127.0.0.1", b"secret")
    with pytest.raises(FetchRefused, match=r"the host 'localhost' resolves to a non-public address"):
        url_fetch(f"http://localhost:{server.port}/ok.png", max_bytes=1000, timeout_s=5)
    assert server.hosts == []


def test_each_hop_is_resolved_once_and_connected_to_the_checked_address(servers, rebinding_dns):
    public = servers("127.0.0.1", b"the image")
    internal = servers("127.0.0.2", b"internal secret", port=public.port)  # same port, inside address
    rebinding_dns["first"]["images.test"] = "127.0.0.1"
    rebinding_dns["then"]["images.test"] = "127.0.0.2"

    data = url_fetch(f"http://images.test:{public.port}/ok.png", max_bytes=1000, timeout_s=5,
                     allowed_networks=("127.0.0.1/32",))
    assert data == b"the image"
    assert rebinding_dns["lookups"] == {"images.test": 1}
    assert public.hosts == [f"images.test:{public.port}"]  # the name travels in the Host header
    assert internal.hosts == []


def test_a_redirect_hop_is_resolved_once_and_checked(servers, rebinding_dns):
    target = servers("127.0.0.1", b"the image")
    start = servers("127.0.0.1", b"", redirects={"/start": f"http://cdn.test:{target.port}/ok.png"})
    rebinding_dns["first"].update({"start.test": "127.0.0.1", "cdn.test": "127.0.0.1"})
    rebinding_dns["then"].update({"start.test": "127.0.0.2", "cdn.test": "127.0.0.2"})

    data = url_fetch(f"http://start.test:{start.port}/start", max_bytes=1000, timeout_s=5,
                     allowed_networks=("127.0.0.1/32",))
    assert data == b"the image"
    assert rebinding_dns["lookups"] == {"start.test": 1, "cdn.test": 1}
    assert target.hosts == [f"cdn.test:{target.port}"]


def test_a_redirect_to_a_name_that_resolves_inside_is_refused(servers, rebinding_dns):
    start = servers("127.0.0.1", b"", redirects={"/start": "http://metadata.test/latest"})
    rebinding_dns["first"].update({"start.test": "127.0.0.1", "metadata.test": "169.254.169.254"})
    with pytest.raises(FetchRefused, match=r"'metadata.test' resolves to a non-public address \(169.254"):
        url_fetch(f"http://start.test:{start.port}/start", max_bytes=1000, timeout_s=5,
                  allowed_networks=("127.0.0.1/32",))


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 whose certificate names `images.test`; records the SNI it got."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "images.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("images.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = Recorder("127.0.0.1", b"tls image")
    server.sni = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, sni, ctx: server.sni.append(sni)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.ca_file = str(cert_file)
    yield server
    server.close()


def test_tls_to_the_checked_address_sends_the_name_as_sni_and_checks_the_certificate_against_it(tls_server):
    adapter = _PinnedAddressAdapter(ipaddress.ip_address("127.0.0.1"))
    request = requests.Request("GET", f"https://images.test:{tls_server.port}/ok.png",
                               headers={"Host": f"images.test:{tls_server.port}"}).prepare()
    response = adapter.send(request, verify=tls_server.ca_file, timeout=5)
    assert response.content == b"tls image"
    assert tls_server.sni == ["images.test"]
    assert tls_server.hosts == [f"images.test:{tls_server.port}"]

    wrong = requests.Request("GET", f"https://other.test:{tls_server.port}/ok.png").prepare()
    with pytest.raises(requests.exceptions.SSLError):
        _PinnedAddressAdapter(ipaddress.ip_address("127.0.0.1")).send(wrong, verify=tls_server.ca_file, timeout=5)
    adapter.close()
