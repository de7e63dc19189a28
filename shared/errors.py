"""Errors the service layer raises; the HTTP layer maps them to status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of errors that are the caller's to fix; `status` is the HTTP status they map to."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthorized(DomainError):
    """No valid bearer token."""

    status = 401


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it exists."""

    status = 404


class Conflict(DomainError):
    """The request conflicts with the object's current state."""

    status = 409


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403


class Invalid(DomainError):
    """The request is well-formed but a value breaks a rule; `field` names it."""

    status = 422
