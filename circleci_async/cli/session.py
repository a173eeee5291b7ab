"""From command-line settings to a :class:`~circleci_async.CircleCI` client.

The CLI adds no HTTP behaviour of its own: it maps options onto the library's configuration.
The one thing it builds itself is an aiohttp session, and only when asked to connect somewhere
unusual: ``--cacert`` (a CircleCI server install behind a private CA) and ``--connect-to``
(curl's option: send a host's connections to another address, for proxies, tunnels and tests).
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

import aiohttp
import attrs
from aiohttp.abc import AbstractResolver, ResolveResult

from ..auth import DEFAULT_TOKEN_ORIGINS, AuthScheme
from ..client import BASE_URL_ENV_VAR, TOKEN_ENV_VARS, CircleCI
from ..config import RateLimitConfig, RetryConfig, Timeouts
from ..transport import USER_AGENT
from .errors import CliError, ExitCode
from .official import (
    CLI_TOKEN_ENV,
    CliYmlError,
    OfficialSettings,
    api_base_from_host,
    cli_yml_path,
    read_official,
)

__all__ = ["ConnectToResolver", "Settings", "open_client", "parse_connect_to"]


@attrs.frozen
class Settings:
    """The global options, as given."""

    token: str | None = None
    base_url: str | None = None
    runner_url: str | None = None
    auth: AuthScheme = "circle-token"
    request_timeout: float | None = 60.0
    retries: int = 5
    max_wait: float | None = 900.0
    cacert: str | None = None
    connect_to: tuple[str, ...] = ()
    artifact_origins: tuple[str, ...] = ()

    host: str | None = None

    def _official(self) -> tuple[OfficialSettings, OfficialSettings]:
        try:
            return read_official()
        except CliYmlError as exc:
            raise CliError(f"the official CLI's settings: {exc}", ExitCode.CONFIG) from None

    def resolve_token(self) -> str:
        """``--token``, else the first of ``CIRCLECI_TOKEN`` / ``CIRCLE_TOKEN`` that is set,
        else the official CLI's (``CIRCLECI_CLI_TOKEN``, then ``~/.circleci/cli.yml``)."""
        candidates = [self.token] + [os.environ.get(name) for name in TOKEN_ENV_VARS]
        for value in candidates:
            if value and value.strip():
                return value.strip()
        for official in self._official():
            if official.token:
                return official.token
        raise CliError(
            "no CircleCI token: pass --token or set "
            + " or ".join((*TOKEN_ENV_VARS, CLI_TOKEN_ENV))
            + f" (or a token: line in {cli_yml_path()}, as the official CLI writes)",
            ExitCode.CONFIG,
        )

    def resolve_base_url(self) -> str | None:
        """``--base-url``, else ``--host`` (its ``/api/v2``), else ``CIRCLECI_BASE_URL``, else
        the official CLI's host (``CIRCLECI_CLI_HOST``, then ``cli.yml``); None: cloud."""
        if self.base_url and self.host:
            raise CliError("pass --base-url or --host, not both", ExitCode.USAGE)
        if self.base_url:
            return self.base_url
        if self.host:
            return api_base_from_host(self.host)
        if os.environ.get(BASE_URL_ENV_VAR, "").strip():
            return None  # the library reads it
        for official in self._official():
            if official.host:
                return api_base_from_host(official.host)
        return None

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be printed."""
        found = [self.token] + [os.environ.get(name) for name in TOKEN_ENV_VARS]
        try:
            found += [official.token for official in read_official()]
        except CliYmlError:
            found.append(os.environ.get(CLI_TOKEN_ENV))
        return tuple(s.strip() for s in found if s and s.strip())


def parse_connect_to(spec: str) -> tuple[tuple[str, int | None], tuple[str, int]]:
    """``HOST:PORT:TO_HOST:TO_PORT`` (an empty ``PORT`` matches any port)."""
    parts = spec.split(":")
    if len(parts) != 4 or not parts[0] or not parts[2] or not parts[3].isdigit():
        raise CliError(f"--connect-to {spec!r}: expected HOST:PORT:TO_HOST:TO_PORT", ExitCode.USAGE)
    host, port, to_host, to_port = parts
    if port and not port.isdigit():
        raise CliError(f"--connect-to {spec!r}: PORT must be a number", ExitCode.USAGE)
    return (host.lower(), int(port) if port else None), (to_host, int(to_port))


class ConnectToResolver(AbstractResolver):
    """Resolves mapped ``(host, port)`` pairs to another address and port; everything else the
    usual way. The original host name is kept for TLS (SNI and certificate checks)."""

    def __init__(
        self,
        mapping: Mapping[tuple[str, int | None], tuple[str, int]],
        fallback: AbstractResolver | None = None,
    ) -> None:
        self._mapping = dict(mapping)
        self._fallback = fallback or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        target = self._mapping.get((name, port)) or self._mapping.get((name, None))
        if target is None:
            return await self._fallback.resolve(host, port, family)
        to_host, to_port = target
        found = await self._fallback.resolve(to_host, to_port, family)
        return [{**entry, "hostname": host, "port": to_port} for entry in found]

    async def close(self) -> None:
        await self._fallback.close()


def _custom_session(
    settings: Settings, trace_configs: Sequence[aiohttp.TraceConfig] = ()
) -> aiohttp.ClientSession | None:
    """A session only when the connection itself must differ from the library's default, or
    a display traces the requests (:mod:`.listing`)."""
    if not settings.cacert and not settings.connect_to and not trace_configs:
        return None
    connector_args: dict[str, Any] = {}
    if settings.cacert:
        try:
            context = ssl.create_default_context(cafile=settings.cacert)
        except (OSError, ssl.SSLError) as exc:
            raise CliError(f"--cacert {settings.cacert}: {exc}", ExitCode.CONFIG) from None
        connector_args["ssl"] = context
    if settings.connect_to:
        mapping = dict(parse_connect_to(spec) for spec in settings.connect_to)
        connector_args["resolver"] = ConnectToResolver(mapping)
    total = settings.request_timeout
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(**connector_args),
        # the library's per-attempt bound; with a session of our own we have to set it here
        timeout=aiohttp.ClientTimeout(total=total, sock_connect=min(total or 10.0, 10.0)),
        headers={"User-Agent": USER_AGENT},
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=list(trace_configs) or None,
    )


@contextlib.asynccontextmanager
async def open_client(
    settings: Settings,
    *,
    session: aiohttp.ClientSession | None = None,
    token_origins: Iterable[str] | None = None,
    rate_limit: RateLimitConfig | None = None,
    trace_configs: Sequence[aiohttp.TraceConfig] = (),
) -> AsyncIterator[CircleCI]:
    """A started client configured by ``settings`` (``session``/``token_origins``/``rate_limit``
    override them: the demo brings its own hosts)."""
    token = settings.resolve_token()
    origins: tuple[str, ...] = (
        tuple(token_origins)
        if token_origins is not None
        else DEFAULT_TOKEN_ORIGINS + settings.artifact_origins
    )
    own_session = None
    if session is None:
        own_session = session = _custom_session(settings, trace_configs)
    try:
        async with CircleCI(
            token,
            # None: the library's defaults (a server install's runner API on its own host)
            base_url=settings.resolve_base_url(),
            runner_base_url=settings.runner_url,
            auth=settings.auth,
            timeouts=Timeouts(total=settings.request_timeout),
            retry=RetryConfig(max_attempts=settings.retries),
            rate_limit=rate_limit or RateLimitConfig(max_wait=settings.max_wait),
            session=session,
            token_origins=origins,
        ) as cci:
            yield cci
    finally:
        if own_session is not None:
            await own_session.close()
