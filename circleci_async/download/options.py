"""Every mirroring option, declared once: the library's keyword arguments and the command line
are :func:`attrs.evolve` over :class:`MirrorOptions`.

Values are checked and normalised when the object is built (a time that does not parse, a
concurrency below one, a manifest path that leaves the destination), so a bad option fails
before any request is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import attrs

from .._timespec import parse_time
from ..errors import ConfigurationError
from ._models import DownloadOptions, Layout, SkipPolicy, coerce_layout, coerce_policy
from .errors import UnsafePathError
from .paths import safe_relative_path

__all__ = ["MirrorOptions", "parse_shard", "shard_manifest"]


def _patterns(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _since(value: datetime | str | None) -> datetime | None:
    return parse_time(value, what="since")


def _until(value: datetime | str | None) -> datetime | None:
    return parse_time(value, what="until")


def _manifest(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return safe_relative_path(value)
    except UnsafePathError as exc:
        raise ConfigurationError(f"manifest must be a path inside dest: {exc}") from None


def parse_shard(value: tuple[int, int] | str | None) -> tuple[int, int] | None:
    """``(i, n)`` or ``"i/n"``: shard ``i`` of ``n``, counted from 0 (``0 <= i < n``)."""
    if value is None:
        return None
    if isinstance(value, str):
        first, sep, second = value.strip().partition("/")
        if not sep or not first.strip().isdigit() or not second.strip().isdigit():
            raise ConfigurationError(f"shard must be I/N (such as 0/4), got {value!r}")
        value = (int(first), int(second))
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ConfigurationError(f"shard must be a pair of integers (i, n), got {value!r}")
    index, count = value
    if count < 1 or not 0 <= index < count:
        raise ConfigurationError(
            f"shard must be (i, n) with n >= 1 and 0 <= i < n (shards count from 0), got {value!r}"
        )
    return (index, count)


def shard_manifest(relative: str, shard: tuple[int, int] | None) -> str:
    """The manifest of one shard: ``manifest.jsonl`` becomes ``manifest.shard-0-of-4.jsonl``
    (the shard's name goes before the extension), so shards never write the same file."""
    if shard is None:
        return relative
    directory, _, name = relative.rpartition("/")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    tag = f"shard-{shard[0]}-of-{shard[1]}"
    name = f"{stem}.{tag}.{extension}" if extension else f"{stem}.{tag}"
    return f"{directory}/{name}" if directory else name


def _download(value: DownloadOptions | None) -> DownloadOptions:
    return value if value is not None else DownloadOptions()


#: The APIs a mirror can walk (v2 stays the default while CircleCI Server has no v3).
APIS = ("v2", "v3")


def _api(value: str) -> Literal["v2", "v3"]:
    text = str(value).strip().lower()
    if text == "v2":
        return "v2"
    if text == "v3":
        return "v3"
    raise ConfigurationError(f"api must be one of {', '.join(APIS)}, got {value!r}")


def _at_least_one(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ConfigurationError(f"{attribute.name} must be >= 1, got {value!r}")


def _not_negative(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 0:
        raise ConfigurationError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class MirrorOptions:
    """What to mirror and how. ``attrs.evolve(options, since="7d")`` makes a variant."""

    #: Only pipelines of this branch (filtered by the server).
    branch: str | None = None
    #: Pipelines created at or after this time: a datetime, ISO 8601 or an age (``7d``).
    since: datetime | None = attrs.field(default=None, converter=_since)
    #: Pipelines created at or before this time (same forms as ``since``).
    until: datetime | None = attrs.field(default=None, converter=_until)
    #: Glob patterns on workflow names (none: every workflow).
    workflow: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    #: Glob patterns on job names (none: every job).
    job: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    #: Glob patterns on artifact paths to keep (none: every artifact).
    include: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    #: Glob patterns on artifact paths to drop.
    exclude: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    #: Stop after this many pipelines (within ``since``/``until``; with ``shard``, counted over
    #: every shard's, so each shard takes its share of the same pipelines); ``None``: no limit.
    max_pipelines: int | None = attrs.field(default=None, validator=_not_negative)
    #: Files in flight at once.
    concurrency: int = attrs.field(default=8, validator=_at_least_one)
    #: Files talking to any one host at once (default: ``concurrency``).
    per_host: int | None = attrs.field(default=None, validator=_at_least_one)
    #: Pipelines listed at once (listing goes through the client's rate limiter).
    list_concurrency: int = attrs.field(default=4, validator=_at_least_one)
    #: What to do with a file already in place; ``if-present`` makes the mirror idempotent.
    skip: SkipPolicy = attrs.field(default=SkipPolicy.IF_PRESENT, converter=coerce_policy)
    #: How parallel nodes' identical paths are kept apart.
    layout: Layout = attrs.field(default=Layout.AUTO, converter=coerce_layout)
    #: Make each file durable before it is renamed into place (slower; see ``download``).
    fsync: bool = False
    #: Resume broken transfers, and keep big unfinished files for a later run.
    resume: bool = True
    #: The JSON-lines record, relative to ``dest``; ``None`` for none.
    manifest: str | None = attrs.field(default="manifest.jsonl", converter=_manifest)
    #: Stop at the first failure and raise :class:`DownloadFailed`.
    fail_fast: bool = False
    #: Shard ``i`` of ``n`` (``(i, n)`` or ``"i/n"``, counted from 0): take only the pipelines
    #: whose number is ``i`` modulo ``n``, keep the manifest ``manifest.shard-i-of-n.jsonl``.
    #: ``n`` workers with shards ``0/n`` ... ``n-1/n`` share out one mirror, never overlapping;
    #: ``max_pipelines``, ``since`` and ``until`` pick the same pipelines for every shard.
    shard: tuple[int, int] | None = attrs.field(default=None, converter=parse_shard)
    #: The downloader's tuning (timeouts, retries, write mode...).
    download: DownloadOptions = attrs.field(factory=DownloadOptions, converter=_download)
    #: Which API lists runs, workflows, jobs and artifacts: ``"v2"`` (pipelines, by slug and
    #: job number) or ``"v3"`` (runs, by id). The files and the manifest are the same.
    api: Literal["v2", "v3"] = attrs.field(default="v2", converter=_api)
