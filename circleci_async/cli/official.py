"""The official CircleCI CLI's settings, for users who already have them.

The official ``circleci`` command keeps a token and a host in ``CIRCLECI_CLI_TOKEN`` /
``CIRCLECI_CLI_HOST`` and in ``~/.circleci/cli.yml`` (``token:`` and ``host:`` lines, written
by ``circleci setup``). They are read after our own options and variables, so one never
overrides the other by surprise.

The file is YAML, and no YAML parser is a dependency, so :func:`parse_cli_yml` is a small strict
reader of exactly those two keys: top-level ``key: value`` lines, plain or quoted scalars, ``#``
comments. Other keys and their nested blocks are skipped; a ``token``/``host`` value in a form it
does not read (a block scalar, a flow collection, an anchor or tag, an unterminated quote) is an
error naming the line, never a guess.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import attrs

__all__ = [
    "CLI_HOST_ENV",
    "CLI_TOKEN_ENV",
    "CliYmlError",
    "OfficialSettings",
    "api_base_from_host",
    "cli_yml_path",
    "parse_cli_yml",
    "read_official",
]

CLI_TOKEN_ENV = "CIRCLECI_CLI_TOKEN"  # noqa: S105 - a variable name
CLI_HOST_ENV = "CIRCLECI_CLI_HOST"
KEYS = ("token", "host")

_LINE = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_-]*)\s*:(?:\s+(?P<value>.*))?\s*$")


class CliYmlError(ValueError):
    """A ``cli.yml`` line this reader does not accept."""


@attrs.frozen
class OfficialSettings:
    """What the official CLI's settings give (None: not set)."""

    token: str | None = None
    host: str | None = None


def _scalar(text: str, where: str) -> str | None:
    """A plain or quoted YAML scalar, with a trailing ``# comment`` removed."""
    text = text.strip()
    if not text:
        return None
    if text[0] in "'\"":
        quote = text[0]
        end = text.find(quote, 1)
        if quote == "'":
            while end != -1 and text[end : end + 2] == "''":  # '' is a quote inside
                end = text.find(quote, end + 2)
        if end == -1:
            raise CliYmlError(f"{where}: unterminated quote")
        rest = text[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise CliYmlError(f"{where}: text after the closing quote")
        inner = text[1:end]
        if quote == "'":
            return inner.replace("''", "'")
        if "\\" in inner:
            raise CliYmlError(f"{where}: escapes in double quotes are not read; use plain text")
        return inner
    if text[0] in "|>[{&*!%@`":
        raise CliYmlError(f"{where}: only a plain or quoted value is read here")
    value = re.split(r"\s#", text, maxsplit=1)[0].strip()
    return value or None


def parse_cli_yml(text: str, *, name: str = "cli.yml") -> OfficialSettings:
    """``token`` and ``host`` from the text of a ``cli.yml`` (pure: text in, values out)."""
    found: dict[str, str | None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        if raw[0] in " \t-":
            continue  # nested under another key, or a list item: not ours
        match = _LINE.match(raw)
        if match is None:
            raise CliYmlError(f"{name} line {number}: expected 'key: value'")
        key = match["key"]
        if key not in KEYS:
            continue
        if key in found:
            raise CliYmlError(f"{name} line {number}: {key} given twice")
        found[key] = _scalar(match["value"] or "", f"{name} line {number}")
    return OfficialSettings(token=found.get("token"), host=found.get("host"))


def cli_yml_path() -> Path:
    """Where the official CLI keeps its settings: ``~/.circleci/cli.yml``."""
    return Path(os.path.expanduser("~")) / ".circleci" / "cli.yml"


def read_official(path: Path | None = None) -> tuple[OfficialSettings, OfficialSettings]:
    """The official CLI's variables, then its file (an absent file gives nothing). Raises
    :class:`CliYmlError` for a file it cannot read as documented."""
    env = OfficialSettings(
        token=(os.environ.get(CLI_TOKEN_ENV) or "").strip() or None,
        host=(os.environ.get(CLI_HOST_ENV) or "").strip() or None,
    )
    path = path or cli_yml_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return env, OfficialSettings()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliYmlError(f"{path}: {exc}") from None
    return env, parse_cli_yml(text, name=str(path))


def api_base_from_host(host: str) -> str:
    """A host as the official CLI takes it (``https://circleci.example.com``) → the API v2 base
    URL; a host already ending in ``/api/v2`` is kept."""
    base = host.strip().rstrip("/")
    if base.endswith("/api/v2"):
        return base
    return base + "/api/v2"
