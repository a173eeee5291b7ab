"""From command-line settings to a :class:`~circleci_async.CircleCI` client.

The CLI adds no HTTP behaviour of its own: it maps options onto the library's configuration.
The one thing it builds itself is an aiohttp session, and only when asked to connect somewhere
unusual: ``--cacert`` (a CircleCI server install behind a private CA) and ``--connect-to``
(curl's option: send a host's connections to another address, for proxies, tunnels and tests),
or when a live display follows the requests (:mod:`.listing`'s trace). The settings themselves
are :mod:`.settings`' (re-exported here), which ``--help`` loads without aiohttp.
``--shared-limit URL`` wires the library's Redis limiter backend, imported only then.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from ..auth import DEFAULT_TOKEN_ORIGINS
from ..client import CircleCI
from ..config import RateLimitConfig, RetryConfig, Timeouts
from ..transport import USER_AGENT
from .errors import CliError, ExitCode
from .settings import Settings, parse_connect_to

if TYPE_CHECKING:
    from ..ratelimit.redis import RedisBackend

__all__ = ["ConnectToResolver", "Settings", "open_client", "parse_connect_to"]


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


def _shared_backend(url: str, config: RateLimitConfig) -> RedisBackend:
    """``RedisBackend.from_url(url)``, imported only when asked for (redis is an extra). The
    URL is never echoed: it may hold a password."""
    try:
        from ..ratelimit.redis import RedisBackend

        # A batch tool can wait a second for Redis before pacing on its own share: a busy
        # machine then does not read as Redis being down.
        return RedisBackend.from_url(url, config=config, timeout=1.0)
    except ImportError as exc:
        if not (exc.name or "").startswith("redis"):
            raise
        raise CliError(
            "--shared-limit needs the redis extra: pip install 'circleci-async[redis]'",
            ExitCode.USAGE,
        ) from None
    except ValueError:
        raise CliError(
            "--shared-limit: not a Redis URL (expected redis://, rediss:// or unix://)",
            ExitCode.CONFIG,
        ) from None


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
    limits = rate_limit or RateLimitConfig(max_wait=settings.max_wait)
    backend = _shared_backend(settings.shared_limit, limits) if settings.shared_limit else None
    own_session = None
    try:
        if session is None:
            own_session = session = _custom_session(settings, trace_configs)
        async with CircleCI(
            token,
            # None: the library's defaults (a server install's runner API on its own host)
            base_url=settings.resolve_base_url(),
            runner_base_url=settings.runner_url,
            auth=settings.auth,
            timeouts=Timeouts(total=settings.request_timeout),
            retry=RetryConfig(max_attempts=settings.retries),
            rate_limit=limits,
            limiter_backend=backend,
            session=session,
            token_origins=origins,
        ) as cci:
            yield cci
    finally:
        if own_session is not None:
            await own_session.close()
        if backend is not None:
            await backend.aclose()
