"""The endpoint browsers POST Content-Security-Policy violations to: each one is logged."""

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("pixmo.csp")

# (report-uri field, Reporting API field): what a log line names of each violation.
FIELDS = (
    ("document-uri", "documentURL"), ("effective-directive", "effectiveDirective"),
    ("blocked-uri", "blockedURL"), ("source-file", "sourceFile"), ("line-number", "lineNumber"),
    ("script-sample", "sample"),
)
FIELD_CHARS = 300


@csrf_exempt  # browsers send reports without a token, and a report changes nothing
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    limit = settings.PIXMO_CSP_REPORT_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    too_big = declared.isdigit() and int(declared) > limit
    body = b"" if too_big else request.read(limit + 1)
    if too_big or len(body) > limit:
        return JsonResponse({"detail": f"a CSP report is at most {limit:,} bytes"}, status=413)
    violations = _violations(body)
    if violations is None:
        return JsonResponse({"detail": "a CSP report is a JSON object with a 'csp-report' member, "
                                       "or a JSON list of csp-violation reports"}, status=400)
    for violation in violations:
        logger.warning("CSP violation %s", " ".join(f"{name}={value!r}" for name, value in violation))
    return HttpResponse(status=204)


def _violations(body: bytes) -> list[list[tuple[str, str]]] | None:
    """Each violation as (field, value) pairs, from either report format; None if it is neither."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        return [_fields(data["csp-report"], by_uri_name=True)]
    if isinstance(data, list) and all(isinstance(item, dict) and isinstance(item.get("body"), dict)
                                      for item in data):
        return [_fields(item["body"], by_uri_name=False) for item in data if item.get("type") == "csp-violation"]
    return None


def _fields(report: dict, *, by_uri_name: bool) -> list[tuple[str, str]]:
    return [(uri_name, str(report.get(uri_name if by_uri_name else api_name, ""))[:FIELD_CHARS])
            for uri_name, api_name in FIELDS]
