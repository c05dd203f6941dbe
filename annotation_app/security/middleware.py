"""Middleware that guards every request and response: forwarded headers only from our proxies, and
a Content-Security-Policy on every response."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

# The headers a reverse proxy sets to speak for the client (Django reads the first through
# SECURE_PROXY_SSL_HEADER, the host and port ones through USE_X_FORWARDED_HOST / _PORT).
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
    "HTTP_FORWARDED",
)


@lru_cache(maxsize=8)
def trusted_proxy_networks(entries: tuple[str, ...]) -> tuple:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"PIXMO_TRUSTED_PROXIES: '{entry}' is not an IP address or CIDR network"
            ) from None
    return tuple(networks)


def is_trusted_proxy(remote_addr: str, networks: tuple) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:  # empty (a Unix socket) or garbage: nobody we know
        return False
    if address.version == 6 and address.ipv4_mapped:  # a dual-stack listener reports ::ffff:a.b.c.d
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class TrustedProxyMiddleware:
    """Drops FORWARDED_HEADERS from requests that did not come from one of PIXMO_TRUSTED_PROXIES.

    Must run first, before SecurityMiddleware reads the scheme: Django believes
    SECURE_PROXY_SSL_HEADER from anyone who sends it."""

    def __init__(self, get_response):
        self.get_response = get_response
        trusted_proxy_networks(tuple(settings.PIXMO_TRUSTED_PROXIES))  # a bad entry stops startup

    def __call__(self, request: HttpRequest) -> HttpResponse:
        networks = trusted_proxy_networks(tuple(settings.PIXMO_TRUSTED_PROXIES))
        if not is_trusted_proxy(request.META.get("REMOTE_ADDR", ""), networks):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


def content_security_policy(directives: dict[str, list[str]], report_uri: str) -> str:
    policy = [" ".join([name, *sources]) for name, sources in directives.items()]
    if report_uri:
        policy.append(f"report-uri {report_uri}")
    return "; ".join(policy)


class ContentSecurityPolicyMiddleware:
    """Sets PIXMO_CSP (with its report-uri) on every response that has no policy of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(
                settings.PIXMO_CSP, settings.PIXMO_CSP_REPORT_URI
            )
        return response
