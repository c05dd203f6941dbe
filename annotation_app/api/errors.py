"""Every refused API request answers JSON `{"detail": "<one sentence>"}` with a 4xx status.

`exception_handler` is DRF's hook for exceptions raised in an API view; `ApiJsonErrorsMiddleware`
catches what happens outside one (an unknown /api/ path, an error page Django rendered) and
gives it the same JSON shape.
"""

import logging

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotation_app.errors import ServiceError

logger = logging.getLogger("pixmo.api")

API_PREFIX = "/api/"


DATABASE_RETRY_AFTER_S = 5
DATABASE_UNAVAILABLE = (
    "the database did not answer (it may be restarting); try again in a few seconds with the same "
    "client UUID: a write that reached it is answered with its stored row, never stored twice"
)


def exception_handler(exc, context):
    """Service errors become 4xx with their one-sentence message as `detail`; so do Django's
    request limits, model validation and bad values (a ValueError from parsing an id). A database
    that cannot be reached is a 503 with Retry-After, not a 500."""
    refusal = refusal_for(exc)
    if refusal is not None:
        status_code, detail = refusal
        return Response({"detail": detail}, status=status_code)
    if database_unavailable(exc):
        logger.warning("api.database_unavailable %s: %s", type(exc).__name__, exc)
        return Response({"detail": DATABASE_UNAVAILABLE}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})
    return drf_exception_handler(exc, context)


def database_unavailable(exc: Exception) -> bool:
    """The connection failed or was cut (a restart, a network drop): the request may be retried."""
    return isinstance(exc, OperationalError | InterfaceError)


def refusal_for(exc: Exception) -> tuple[int, str] | None:
    """(status, detail) for an exception that means the request was bad, else None."""
    if isinstance(exc, ServiceError):
        return exc.status_code, str(exc)
    if isinstance(exc, SuspiciousOperation):
        return _limit_refusal(exc)
    if isinstance(exc, DjangoValidationError):
        return status.HTTP_400_BAD_REQUEST, _validation_message(exc)
    if isinstance(exc, ObjectDoesNotExist):
        return status.HTTP_404_NOT_FOUND, str(exc) or "the object does not exist"
    if isinstance(exc, DataError):
        logger.warning("api.data_error %s", exc)
        return status.HTTP_400_BAD_REQUEST, "a value is out of range or too long for where it is stored"
    if isinstance(exc, ValueError):
        # Kept in the log with its traceback: a ValueError that is not the client's fault is a bug.
        logger.warning("api.value_error %s", exc, exc_info=exc)
        return status.HTTP_400_BAD_REQUEST, f"bad value: {exc}"
    return None


def _limit_refusal(exc: SuspiciousOperation) -> tuple[int, str]:
    # Django raises these lazily, when the view first reads request.POST / FILES / body.
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return (status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                f"the request's form fields are over the {limit:,}-byte limit (files not counted)")
    if isinstance(exc, TooManyFilesSent):
        return status.HTTP_400_BAD_REQUEST, f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request"
    if isinstance(exc, TooManyFieldsSent):
        return status.HTTP_400_BAD_REQUEST, f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields per request"
    logger.warning("api.suspicious %s", exc)
    return status.HTTP_400_BAD_REQUEST, "the request was refused as malformed"


def _validation_message(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        )
    return "; ".join(exc.messages)


class ApiJsonErrorsMiddleware:
    """Under /api/, an error answer Django rendered as a page (an unknown path, a 500) is JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if isinstance(response, Response) or response.get("Content-Type", "").startswith("application/json"):
            return response  # DRF's own answer (JSON, or the browsable API's page)
        json_response = JsonResponse({"detail": _page_detail(request, response.status_code)},
                                     status=response.status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                json_response[header] = response[header]
        return json_response

    def process_exception(self, request, exception):
        """An exception from a view outside DRF's handler (Django's own request limits), and on
        every path a database that cannot be reached: 503 with Retry-After."""
        if database_unavailable(exception):
            logger.warning("page.database_unavailable %s %s: %s", request.path, type(exception).__name__, exception)
            if request.path.startswith(API_PREFIX):
                response = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
            else:
                response = HttpResponse(
                    "<!doctype html><title>Try again shortly</title><h1>Try again shortly</h1>"
                    "<p>The database did not answer (it may be restarting). Nothing is lost: reload "
                    "this page in a few seconds.</p>", status=503, content_type="text/html; charset=utf-8")
            response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
            return response
        if not request.path.startswith(API_PREFIX):
            return None
        refusal = refusal_for(exception) if isinstance(exception, SuspiciousOperation | ServiceError) else None
        if refusal is None:
            return None  # Django logs it and renders its 500, which __call__ turns into JSON
        return JsonResponse({"detail": refusal[1]}, status=refusal[0])


def _page_detail(request, status_code: int) -> str:
    if status_code == 404:
        return f"there is no API endpoint at {request.path}"
    if status_code == 405:
        return f"{request.method} is not allowed at {request.path}"
    if status_code >= 500:
        return "the server failed on this request; the error is logged"
    return "the request was refused"
