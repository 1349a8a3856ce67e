"""Errors the function raises on purpose, each with a message a user can act on.

Step Functions and Lambda destinations see the class name as the error type, so the names
are part of the interface.
"""

from __future__ import annotations

__all__ = ["AccessDenied", "BucketNotFound", "ListingFailed", "ManifestUploadFailed", "RunAborted"]


class BucketNotFound(LookupError):
    """The bucket does not exist (S3 NoSuchBucket)."""


class AccessDenied(PermissionError):
    """S3 refused the credentials or the request (wrong keys, expired token, policy)."""


class ListingFailed(RuntimeError):
    """list_objects_v2 failed for a reason other than the two above."""


class ManifestUploadFailed(RuntimeError):
    """The manifest could not be uploaded; nothing was left in the bucket."""


class RunAborted(TimeoutError):
    """The run stopped itself before Lambda's deadline so that it could clean up."""
