"""Keep secrets out of reprs, logs and exception messages.

URLs are redacted (query values of credential or signature parameters, user info) before they are
stored on an error or written to a log: pre-signed storage URLs carry their credentials in the
query string, and the deprecated ``circle-token`` query parameter would carry the token itself.
"""

from __future__ import annotations

import base64

from yarl import URL

__all__ = ["REDACTED", "Secret", "redact_url"]

REDACTED = "***"

# Query parameters whose values are credentials (lower-case). Pre-signed S3/GCS/Azure URLs and
# CircleCI's deprecated query-string auth.
_SECRET_PARAMS = frozenset(
    {
        "circle-token",
        "token",
        "access_token",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "signature",
        "sig",
        "awsaccesskeyid",
        "key-pair-id",
        "policy",
    }
)


def redact_url(url: URL | str) -> str:
    """Return ``url`` as text with credentials replaced by ``***``."""
    if not isinstance(url, URL):
        try:
            url = URL(url)
        except (TypeError, ValueError):
            return REDACTED
    if url.user is not None or url.password is not None:
        url = url.with_user(None)
    if url.query_string:
        query = url.query
        if any(key.lower() in _SECRET_PARAMS for key in query):
            url = url.with_query(
                [(k, REDACTED if k.lower() in _SECRET_PARAMS else v) for k, v in query.items()]
            )
    return str(url)


class Secret:
    """A string that refuses to show itself: ``repr``, ``str`` and ``format`` all print ``***``.

    The value is reachable only through :meth:`reveal`, so it cannot leak by accident into a
    log line, an f-string or an exception message.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str:  # never pickle a credential by accident
        raise TypeError("Secret values cannot be pickled")


def secret_forms(secret: str) -> list[str]:
    """``secret`` and the forms it travels in: with basic auth the token is sent as
    ``base64(token + ":")``, which a server may echo back in an error body (standard or URL-safe
    alphabet, with or without padding). Longest first, so no form is left half replaced."""
    raw = f"{secret}:".encode()
    forms = {secret}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms.update((encoded, encoded.rstrip("=")))
    return sorted(forms, key=len, reverse=True)
