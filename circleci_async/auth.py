"""Credentials, and the one rule for where they may be sent.

The token goes only to the API's own origin and to origins explicitly allowed (CircleCI's artifact
hosts), never to anything else: artifact URLs redirect to pre-signed storage URLs on other hosts,
and every HTTP stack forwards custom headers such as ``Circle-Token`` across redirects. All
credential headers are decided here, per URL: which origins receive the token at all, and in
which form. API v3 (URLs under ``v3_base_url``) takes ``Authorization: Bearer``; API v2, the
legacy runner API and the artifact hosts keep ``Circle-Token`` (or basic). A token is never put
in a query string.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from typing import Literal

from yarl import URL

from ._redact import Secret, secret_forms

__all__ = ["DEFAULT_TOKEN_ORIGINS", "AuthScheme", "TokenAuth"]

AuthScheme = Literal["circle-token", "basic"]

#: Origins besides the API's own that receive the token: CircleCI serves private artifacts from
#: subdomains of circle-artifacts.com and requires the token there.
DEFAULT_TOKEN_ORIGINS: tuple[str, ...] = ("https://*.circle-artifacts.com",)

_EMPTY: Mapping[str, str] = {}


#: The first path segments, under the runner base, of the legacy runner API (``/runner``,
#: ``/runner/resource``, ``/runner/token``, ``/runner/tasks``): on a server install or the fake it
#: shares ``/api/v3`` with API v3 but keeps ``Circle-Token``. The newer v3-style runner routes
#: (``/runner/resource-classes``, ``/runner/agents``, ``/runner/tokens``) are v3 [inferred].
_LEGACY_RUNNER = frozenset({"resource", "token", "tasks"})


class TokenAuth:
    """A personal API token sent as ``Circle-Token`` or as HTTP basic user name (v2, runner),
    or as ``Authorization: Bearer`` (v3)."""

    __slots__ = (
        "_allowed",
        "_base_origin",
        "_bearer",
        "_cache",
        "_echoes",
        "_headers",
        "_runner",
        "_token",
        "_v3",
        "fingerprint",
        "scheme",
    )

    def __init__(
        self,
        token: str,
        *,
        base_url: URL,
        scheme: AuthScheme = "circle-token",
        extra_origins: Iterable[str] = DEFAULT_TOKEN_ORIGINS,
        v3_base_url: URL | None = None,
        runner_base_url: URL | None = None,
    ) -> None:
        if scheme not in ("circle-token", "basic"):
            raise ValueError(f"unknown auth scheme {scheme!r}")
        self._token = Secret(token)
        self.scheme = scheme
        #: A stable, non-reversible name for the token: the key of its shared rate limiter.
        self.fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]
        if scheme == "basic":
            creds = base64.b64encode(f"{token}:".encode()).decode()
            self._headers: Mapping[str, str] = {"Authorization": f"Basic {creds}"}
        else:
            self._headers = {"Circle-Token": token}
        #: What a server could echo back of the credentials, as bytes (see :meth:`scrub`).
        self._echoes = tuple(form.encode() for form in secret_forms(token))
        self._bearer: Mapping[str, str] = {"Authorization": f"Bearer {token}"}
        self._v3 = _prefix(v3_base_url) if v3_base_url is not None else None
        self._runner = _prefix(runner_base_url) if runner_base_url is not None else None
        self._base_origin = _origin(base_url)
        self._allowed = tuple(_parse_pattern(p) for p in extra_origins)
        self._cache: dict[tuple[str, str, int | None], bool] = {}

    def __repr__(self) -> str:
        return f"TokenAuth(scheme={self.scheme!r}, fingerprint={self.fingerprint!r})"

    def scrub(self, data: bytes) -> bytes:
        """``data`` (an error body) with every form of the token a server could echo back
        replaced by ``***``: errors carry their body and message, and error trackers send both
        home. Called on error answers only."""
        for form in self._echoes:
            if form in data:
                data = data.replace(form, b"***")
        return data

    def headers_for(self, url: URL) -> Mapping[str, str]:
        """The credential headers for ``url``: empty unless its origin may receive the token;
        Bearer for an API v3 URL, else the v2 scheme. The mappings returned are shared and
        constant (callers may cache what they build from them by identity)."""
        if not self.allows(url):
            return _EMPTY
        return self._bearer if self.is_v3(url) else self._headers

    def is_v3(self, url: URL) -> bool:
        """Whether ``url`` is an API v3 call: under the v3 base, and not the legacy runner API
        when that shares the prefix (server installs, the fake)."""
        v3 = self._v3
        if v3 is None or _origin(url) != v3[0]:
            return False
        rest = _relative(url.path, v3[1])
        if rest is None:
            return False
        runner = self._runner
        if runner is not None and runner[0] == v3[0]:
            below = _relative(url.path, runner[1])
            if below is not None:
                parts = below.split("/")
                if parts[0] == "runner" and (len(parts) == 1 or parts[1] in _LEGACY_RUNNER):
                    return False
        return True

    def allows(self, url: URL) -> bool:
        origin = _origin(url)
        cached = self._cache.get(origin)
        if cached is None:
            cached = origin == self._base_origin or any(
                origin[0] == scheme and origin[2] == port and fnmatch.fnmatchcase(origin[1], host)
                for scheme, host, port in self._allowed
            )
            if len(self._cache) < 1024:
                self._cache[origin] = cached
        return cached


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme.lower(), (url.host or "").lower().rstrip("."), url.port)


def _prefix(url: URL) -> tuple[tuple[str, str, int | None], str]:
    return _origin(url), url.path.rstrip("/")


def _relative(path: str, prefix: str) -> str | None:
    """``path`` below ``prefix`` without the leading ``/`` (``None``: not below it)."""
    if path == prefix:
        return ""
    if path.startswith(prefix + "/"):
        return path[len(prefix) + 1 :]
    return None


def _parse_pattern(pattern: str) -> tuple[str, str, int | None]:
    scheme, sep, rest = pattern.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise ValueError(
            f"token origin must look like 'https://host' or 'https://*.host', got {pattern!r}"
        )
    host, _, port = rest.rstrip("/").partition(":")
    return (
        scheme.lower(),
        host.lower(),
        int(port) if port else (443 if scheme.lower() == "https" else 80),
    )
