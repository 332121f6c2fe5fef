"""The service's own errors; handlers map them to HTTP statuses (never a 500 for bad input)."""


class ChirpError(Exception):
    status = 400


class InvalidInput(ChirpError):
    """`field`: the parameter at fault, where one is (APIs that answer per-parameter details name it)."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(ChirpError):
    status = 404


class Forbidden(ChirpError):
    status = 403


class Conflict(ChirpError):
    status = 409


class Unprocessable(ChirpError):
    """Well-formed, but refers to something that does not exist or cannot be used."""

    status = 422


class Unavailable(ChirpError):
    """Transient: the client should retry shortly."""

    status = 503
