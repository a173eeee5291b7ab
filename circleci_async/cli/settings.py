"""The global options as given, and how the token and the API base URL are found from them.

Light on purpose (no aiohttp, no client at import time): ``circleci-async --help`` loads this;
:mod:`.session` turns the settings into a client when a command runs.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

import attrs

from .errors import CliError, ExitCode
from .official import (
    CLI_TOKEN_ENV,
    CliYmlError,
    OfficialSettings,
    api_base_from_host,
    cli_yml_path,
    read_official,
)

if TYPE_CHECKING:
    from ..auth import AuthScheme

__all__ = ["Settings", "parse_connect_to"]


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
    #: ``--shared-limit``: a Redis URL holding the budget every worker on the token shares.
    shared_limit: str | None = attrs.field(default=None, repr=False)  # may hold a password

    def _official(self) -> tuple[OfficialSettings, OfficialSettings]:
        try:
            return read_official()
        except CliYmlError as exc:
            raise CliError(f"the official CLI's settings: {exc}", ExitCode.CONFIG) from None

    def resolve_token(self) -> str:
        """``--token``, else the first of ``CIRCLECI_TOKEN`` / ``CIRCLE_TOKEN`` that is set,
        else the official CLI's (``CIRCLECI_CLI_TOKEN``, then ``~/.circleci/cli.yml``)."""
        from ..client import TOKEN_ENV_VARS

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
        from ..client import BASE_URL_ENV_VAR

        if os.environ.get(BASE_URL_ENV_VAR, "").strip():
            return None  # the library reads it
        for official in self._official():
            if official.host:
                return api_base_from_host(official.host)
        return None

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be printed: tokens, and the password of --shared-limit."""
        from yarl import URL

        from ..client import TOKEN_ENV_VARS

        found = [self.token] + [os.environ.get(name) for name in TOKEN_ENV_VARS]
        try:
            found += [official.token for official in read_official()]
        except CliYmlError:
            found.append(os.environ.get(CLI_TOKEN_ENV))
        if self.shared_limit:
            with contextlib.suppress(ValueError):
                found.append(URL(self.shared_limit).password)
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
