"""Errors the domain and the service layer raise. They say what went wrong, never how a transport
answers it: `shared.web.problems` maps each kind to an HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of errors that are the caller's to fix; `field` names the input at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthorized(DomainError):
    """No valid bearer token."""


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it exists."""


class Conflict(DomainError):
    """The request conflicts with the object's current state."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class Invalid(DomainError):
    """The request is well-formed but a value breaks a rule; `field` names it."""


class BadRequest(DomainError):
    """The request cannot be understood as it is (e.g. a malformed parameter)."""


class PayloadTooLarge(DomainError):
    """The request body is larger than this service accepts."""
