from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotation_app.errors import ServiceError


def exception_handler(exc, context):
    """Service errors become 4xx with their one-sentence message as `detail`."""
    if isinstance(exc, ServiceError):
        return Response({"detail": str(exc)}, status=exc.status_code)
    return drf_exception_handler(exc, context)
