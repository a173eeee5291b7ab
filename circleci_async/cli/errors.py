"""Exit codes, and every failure turned into one line on stderr.

A command-line user (or the script that runs the command) needs to know *what kind* of thing
went wrong, not a traceback: the exit code says it, the line explains it. Everything printed
passes through :func:`scrub`, so a token never reaches the terminal even if some message were to
carry it. (The library's error classes are imported by :func:`describe` when it runs: ``--help``
needs none of them.)
"""

from __future__ import annotations

import asyncio
import enum
import re

__all__ = ["CliError", "ExitCode", "describe", "one_line", "scrub", "secret_forms"]
from .._redact import secret_forms


class ExitCode(enum.IntEnum):
    """The documented exit codes (``circleci-async --help`` lists them)."""

    OK = 0
    #: The command ran but the outcome is a failure: a pipeline or workflow that failed, files
    #: that could not be mirrored, credentials that reached a storage host in the demo.
    FAILED = 1
    #: Bad command line (unknown option, missing argument), or the ``cli`` extra is missing.
    USAGE = 2
    #: No token, or a setting the client refuses (a malformed URL, an unusable directory).
    CONFIG = 3
    #: The server refused the token (401) or what it may do (403).
    AUTH = 4
    #: 404: no such project, pipeline, workflow or job, or the token may not see it.
    NOT_FOUND = 5
    #: Rate limited for longer than ``--max-wait`` allows.
    RATE_LIMITED = 6
    #: The server could not be reached (connection refused, DNS, TLS).
    NETWORK = 7
    #: A request, or ``wait``, ran out of time.
    TIMEOUT = 8
    #: Any other error the API answered with (5xx after retries, 400, 409...) or a response
    #: that is not what the API promises.
    API = 9
    #: Interrupted (Ctrl-C), except for ``watch``, where that is how one stops it.
    INTERRUPTED = 130


class CliError(Exception):
    """An error the CLI itself detects: printed as is, with its exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.CONFIG) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def one_line(text: str) -> str:
    """Collapse whitespace and line breaks: one error, one line."""
    return " ".join(text.split())


#: Shorter strings are not scrubbed: a real token is 40 characters, and blanking every "T" of a
#: message because someone typed ``--token T`` would only garble it.
MIN_SECRET = 6


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every secret in ``text``, in every form it is sent in (the library never puts
    the token in a message; this is the last guard before the terminal, against servers that
    echo what they received)."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET:
            for form in secret_forms(secret):
                text = text.replace(form, "***")
    return text


#: What the stack's connect errors mean, in the words a user searches for (aiohttp's own text,
#: "Cannot connect to host h:1 ssl:default [Connect call failed ...]", says it badly).
_REASONS = (
    (("connect call failed", "connection refused", "errno 111", "errno 61"), "connection refused"),
    (
        (
            "name or service not known",
            "nodename nor servname",
            "no address associated",
            "temporary failure in name resolution",
            "getaddrinfo failed",
        ),
        "host not found (DNS)",
    ),
    (("network is unreachable", "no route to host"), "network unreachable"),
    (("certificate verify failed",), "TLS certificate not trusted (see --cacert)"),
    (("sslerror", "[ssl", "handshake", "wrong version number"), "TLS handshake failed"),
    (("timeout", "timed out"), "connection timed out"),
)


def connect_reason(text: str) -> str:
    """A short reason for a failed connection, from the library's message (pure: text in,
    words out); the message itself, without the URL suffix, when nothing matches."""
    lowered = text.lower()
    for needles, reason in _REASONS:
        if any(needle in lowered for needle in needles):
            return reason
    return text


def base_url_hint(url: object) -> str:
    """For a 404 from a URL with no ``/api/v<n>/`` in its path: the base URL is likely a bare
    host, the commonest server-install mistake."""
    if url is None:
        return ""
    from yarl import URL

    path = URL(str(url)).path
    if re.search(r"/api/v\d+(/|$)", path):
        return ""
    return (
        " (the base URL has no /api/v2: for a server install pass --host https://your-host, "
        "or --base-url https://your-host/api/v2)"
    )


def describe(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code and message for an exception that ended a command."""

    from ..download.errors import DownloadError
    from ..errors import (
        APIError,
        CircleCIError,
        ConfigurationError,
        ConnectError,
        DecodeError,
        Forbidden,
        NotFound,
        PaginationError,
        RateLimitExceeded,
        RequestTimeout,
        TransportError,
        Unauthorized,
    )
    from ..waiting import WaitTimeout

    if isinstance(exc, CliError):
        return exc.code, exc.message
    if isinstance(exc, ConfigurationError):
        return ExitCode.CONFIG, f"configuration: {exc}"
    if isinstance(exc, Unauthorized):
        return (
            ExitCode.AUTH,
            f"authentication failed: {exc} (check --token, CIRCLECI_TOKEN or CIRCLE_TOKEN; "
            "API v2 needs a personal API token)",
        )
    if isinstance(exc, Forbidden):
        return ExitCode.AUTH, f"permission denied: {exc}"
    if isinstance(exc, NotFound):
        return ExitCode.NOT_FOUND, f"not found: {exc}" + base_url_hint(exc.url)
    if isinstance(exc, RateLimitExceeded):
        after = f" (server asks to wait {exc.retry_after:.0f} s)" if exc.retry_after else ""
        return (
            ExitCode.RATE_LIMITED,
            f"rate limited beyond the longest wait allowed (--max-wait){after}: {exc}",
        )
    if isinstance(exc, WaitTimeout):
        return ExitCode.TIMEOUT, f"timed out: {exc}"
    if isinstance(exc, RequestTimeout):
        return ExitCode.TIMEOUT, f"request timed out (--request-timeout): {exc}"
    if isinstance(exc, ConnectError):
        where = f" {exc.method} {exc.url}" if exc.method and exc.url else ""
        return ExitCode.NETWORK, f"network: cannot reach{where}: {connect_reason(str(exc))}"
    if isinstance(exc, TransportError):
        return ExitCode.NETWORK, f"network: {exc}"
    if isinstance(exc, APIError):
        return ExitCode.API, f"API error: {exc}"
    if isinstance(exc, DecodeError | PaginationError):
        return ExitCode.API, f"unexpected response: {exc}"
    if isinstance(exc, DownloadError | CircleCIError):
        return ExitCode.FAILED, str(exc)
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return ExitCode.TIMEOUT, "timed out"
    if isinstance(exc, OSError):
        return ExitCode.CONFIG, f"{exc.strerror or type(exc).__name__}: {exc.filename or exc}"
    return ExitCode.FAILED, f"internal error: {type(exc).__name__}: {exc}"
