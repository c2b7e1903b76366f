"""Errors that services raise and views turn into messages or status codes."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule said no. ``message`` is shown to the user; ``field`` names the form
    field it belongs to, if any."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class PermissionDenied(DomainError):
    """The actor may not do this (shown as 403)."""


class NotFound(DomainError):
    """The thing asked for does not exist (shown as 404)."""
