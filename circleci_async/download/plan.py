"""From artifacts to destinations: validation, filters, the node layout, conflicts, skip rules.

Pure: no I/O. The layout is decided over every artifact given (before filters), so where a file
lands does not depend on which filters a run used.

Globs (``include``/``exclude``, and the mirror's workflow and job names) follow the rules users
know from shells with ``globstar`` and from ``.gitignore``-style tools, matched on the
normalised ``/``-separated path, case-sensitively on every platform:

- ``*`` matches any run of characters within one path segment (never ``/``), ``?`` one such
  character, ``[abc]``/``[a-z]``/``[!abc]`` one character of (not of) a class;
- ``**`` as a whole segment matches any number of segments, none included: ``**/*.xml``
  matches ``junit.xml`` and ``a/b/junit.xml``, ``a/**/b`` matches ``a/b`` and ``a/x/y/b``;
- names starting with ``.`` are not special (``*`` matches ``.env``): artifact trees are not
  home directories, and a filter that silently skips dot files loses them;
- ``\\`` escapes the next character; a pattern is matched against the whole path, so
  ``*.xml`` matches top-level files only (``**/*.xml`` at any depth);
- a path is kept when it matches any ``include`` (or there is none) and no ``exclude``:
  exclude wins.

The matching is ``wcmatch``'s (:func:`wcmatch.glob.compile`), not :mod:`fnmatch`, whose ``*``
crosses ``/`` and which has no ``**``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

import attrs
from wcmatch import glob as _wcglob

from ._models import ArtifactRef, Layout, SkipPolicy
from .errors import DownloadError, PathConflictError
from .paths import collision_key, safe_relative_path

__all__ = [
    "PlannedFile",
    "compile_filter",
    "compile_globs",
    "matches",
    "node_dir",
    "plan_downloads",
    "skip_reason",
]

#: Shell ``globstar`` semantics: ``**`` across segments, dot files not special, ``/`` the only
#: separator and case-sensitive whatever the platform (the paths come from the server).
_GLOB_FLAGS = _wcglob.GLOBSTAR | _wcglob.DOTGLOB | _wcglob.FORCEUNIX | _wcglob.CASE


def node_dir(node_index: int) -> str:
    return f"node-{node_index}"


@attrs.frozen
class PlannedFile:
    """One artifact's fate before any I/O: where it goes, or why it is refused."""

    index: int
    artifact: ArtifactRef
    #: Destination relative to ``dest``, ``/``-separated; ``None`` when refused.
    relative: str | None
    error: DownloadError | None = None
    #: The index of an identical artifact (same node, path and URL) listed earlier.
    duplicate_of: int | None = None


def compile_globs(patterns: Iterable[str]) -> Callable[[str], bool]:
    """One predicate: whether a ``/``-separated path matches any of ``patterns`` (the rules are
    in the module docstring). Compiled once; no patterns match nothing."""
    return _compiled(tuple(patterns))


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    if not patterns:
        return _never
    if any(not isinstance(pattern, str) for pattern in patterns):
        raise TypeError("glob patterns must be strings")
    matcher = _wcglob.compile(list(patterns), flags=_GLOB_FLAGS)
    return matcher.match


def _never(path: str) -> bool:
    return False


def compile_filter(include: Sequence[str], exclude: Sequence[str]) -> Callable[[str], bool]:
    """The include/exclude filter as one predicate: any include (or none given), no exclude."""
    included = compile_globs(include) if include else None
    excluded = compile_globs(exclude)

    def keep(path: str) -> bool:
        if included is not None and not included(path):
            return False
        return not excluded(path)

    return keep


def matches(path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether ``path`` passes the include/exclude globs (module docstring): any include (or
    none), no exclude. Compiled patterns are cached; a loop should use :func:`compile_filter`."""
    return compile_filter(include, exclude)(path)


#: What most artifact URLs look like: ``http(s)://`` and an ASCII authority without brackets,
#: ending the URL or followed by its path, query or fragment. ``urlsplit`` (a cache miss per
#: URL) accepts every such URL; the rest take the long way.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@-]+(?:[/?#]|\Z)")


def _check_url(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return "the artifact has no URL"
    if _PLAIN_HTTP_URL.match(url) is not None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the artifact URL is malformed"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "the artifact URL is not an absolute http(s) URL"
    return None


def plan_downloads(
    artifacts: Sequence[ArtifactRef],
    *,
    layout: Layout = Layout.AUTO,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    windows: bool | None = None,
) -> list[PlannedFile]:
    """Decide each artifact's destination, in input order; filtered-out artifacts are left out."""
    keep = compile_filter(include, exclude) if include or exclude else None  # None: keep all
    planned: list[PlannedFile] = []
    normalised: dict[int, str] = {}
    for index, artifact in enumerate(artifacts):
        node = artifact.node_index
        try:
            if isinstance(node, bool) or not isinstance(node, int) or node < 0:
                raise DownloadError(f"the artifact has an invalid node_index: {node!r}")
            problem = _check_url(artifact.url)
            if problem is not None:
                raise DownloadError(problem)
            normalised[index] = safe_relative_path(artifact.path, windows=windows)
        except DownloadError as exc:
            planned.append(PlannedFile(index, artifact, None, exc))
            continue
        planned.append(PlannedFile(index, artifact, ""))  # relative decided below

    # Which paths come from more than one node (over everything listed, before filters).
    nodes_of: dict[str, set[int]] = {}
    for index, relative in normalised.items():
        nodes_of.setdefault(collision_key(relative), set()).add(artifacts[index].node_index)

    result: list[PlannedFile] = []
    first_of: dict[tuple[int, str], PlannedFile] = {}
    for entry in planned:
        if entry.error is not None:
            result.append(entry)
            continue
        artifact = entry.artifact
        relative = normalised[entry.index]
        if keep is not None and not keep(relative):
            continue
        key = (artifact.node_index, relative)
        earlier = first_of.get(key)
        if earlier is not None:
            if earlier.artifact.url == artifact.url:
                result.append(PlannedFile(entry.index, artifact, None, duplicate_of=earlier.index))
            else:
                conflict = PathConflictError(
                    f"node {artifact.node_index} lists {relative!r} twice with different URLs"
                )
                result.append(PlannedFile(entry.index, artifact, None, conflict))
            continue
        shared = len(nodes_of[collision_key(relative)]) > 1
        if layout is Layout.PER_NODE or (layout is Layout.AUTO and shared):
            destination = f"{node_dir(artifact.node_index)}/{relative}"
        elif layout is Layout.FLAT and shared:
            conflict = PathConflictError(
                f"{relative!r} exists on several nodes; the flat layout cannot keep them apart "
                "(use layout='auto' or 'per-node')"
            )
            result.append(PlannedFile(entry.index, artifact, None, conflict))
            continue
        else:
            destination = relative
        planned_file = PlannedFile(entry.index, artifact, destination)
        first_of[key] = planned_file
        result.append(planned_file)
    return _refuse_conflicts(result)


def _refuse_conflicts(entries: list[PlannedFile]) -> list[PlannedFile]:
    """Two entries on one destination, or a file where another needs a directory: the later
    (respectively the deeper) one is refused."""
    taken: dict[str, int] = {}
    files: set[str] = set()
    for entry in entries:
        if entry.relative:
            files.add(entry.relative)
    out: list[PlannedFile] = []
    for entry in entries:
        relative = entry.relative
        if not relative:
            out.append(entry)
            continue
        other = taken.get(relative)
        if other is not None:
            error = PathConflictError(f"{relative!r} is also the destination of artifact #{other}")
            out.append(attrs.evolve(entry, relative=None, error=error))
            continue
        blocking = next((p for p in _parents(relative) if p in files), None)
        if blocking is not None:
            error = PathConflictError(
                f"{relative!r} needs a directory {blocking!r}, which is also an artifact file"
            )
            out.append(attrs.evolve(entry, relative=None, error=error))
            continue
        taken[relative] = entry.index
        out.append(entry)
    return out


def _parents(relative: str) -> Iterable[str]:
    parts = relative.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def skip_reason(
    policy: SkipPolicy, existing_size: int | None, remote_size: int | None = None
) -> str | None:
    """Why an existing file is kept (``None``: download it). ``existing_size`` is ``None`` when
    there is no regular file in place; ``remote_size`` is the announced size, once known."""
    if existing_size is None or policy is SkipPolicy.OVERWRITE:
        return None
    if policy is SkipPolicy.IF_PRESENT:
        return "present"
    if remote_size is not None and remote_size == existing_size:
        return "size-matches"
    return None
