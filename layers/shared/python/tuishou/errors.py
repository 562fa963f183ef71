"""Domain errors. The REST resolver maps each to its HTTP status and the JSON error body."""

from __future__ import annotations


class TuishouError(Exception):
    """Base of every error the domain raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(TuishouError):
    status, code = 400, "bad_request"


class Unauthorized(TuishouError):
    status, code = 401, "unauthorized"


class Forbidden(TuishouError):
    status, code = 403, "forbidden"


class NotFound(TuishouError):
    status, code = 404, "not_found"


class Conflict(TuishouError):
    status, code = 409, "conflict"


class Gone(TuishouError):
    status, code = 410, "gone"


class Unprocessable(TuishouError):
    status, code = 422, "validation_error"


class PayloadTooLarge(TuishouError):
    status, code = 413, "payload_too_large"


class ServiceUnavailable(TuishouError):
    """A dependency throttled or failed transiently; the caller should retry after ``retry_after`` s."""

    status, code = 503, "service_unavailable"

    def __init__(self, message: str = "temporarily unavailable, retry later", *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyRequests(TuishouError):
    """The caller is over a rate limit; it may try again after ``retry_after`` seconds."""

    status, code = 429, "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
