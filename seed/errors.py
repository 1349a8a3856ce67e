"""Errors the seeder raises. The CLI maps them to exit codes (2 = bad input, 1 = S3 failed)."""

from __future__ import annotations

__all__ = ["SeedArgumentError", "SeedConnectionError", "SeedError"]


class SeedError(Exception):
    """Base class: seeding could not be done as asked."""

    exit_code = 1


class SeedArgumentError(SeedError, ValueError):
    """An argument is invalid (negative count, bad bucket name, bad size...)."""

    exit_code = 2


class SeedConnectionError(SeedError):
    """The S3 endpoint could not be reached, or refused the credentials or the request."""

    exit_code = 1
