"""The application errors that business code raises; config/api.py maps them to HTTP."""


class ApplicationError(Exception):
    """Base of every error that business code raises on purpose."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidFilterError(ApplicationError):
    status_code = 400


class PermissionDenied(ApplicationError):
    status_code = 403


class RejectedInputError(ApplicationError):
    """Input that is well-formed HTTP but cannot be accepted (422)."""

    status_code = 422


class TooManyRequests(ApplicationError):
    """Too many attempts or requests; ``retry_after`` says in how many seconds to try again."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class PayloadTooLarge(ApplicationError):
    status_code = 413


class UnsupportedMediaType(ApplicationError):
    """A request body in a format that the endpoint does not take (415)."""

    status_code = 415


class NotAuthenticated(ApplicationError):
    """Credentials that do not (or no longer) identify anyone: say why (401)."""

    status_code = 401


class ServiceUnavailable(ApplicationError):
    """A service we depend on does not answer; the request may succeed later (503)."""

    status_code = 503
