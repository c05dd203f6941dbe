"""Errors that services raise for bad input or a broken rule; views turn them into 4xx."""


class ServiceError(Exception):
    """A request that cannot be carried out; the message is one sentence for the user."""

    status_code = 400


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class PermissionDenied(ServiceError):
    status_code = 403


class NoWorkAvailable(ServiceError):
    status_code = 404
