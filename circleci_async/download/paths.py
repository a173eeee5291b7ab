"""Turning a server-supplied artifact path into a safe relative path. Pure: no I/O.

The artifact ``path`` comes from the server and is written to the local disk, so it is treated
as untrusted input:

- ``\\`` is a separator too (Windows executors), so ``a\\..\\..\\x`` cannot slip through;
- absolute paths (``/etc/x``, ``\\\\server\\share``), drive letters (``C:\\x``, ``C:x``) and any
  ``..`` component are refused, not "fixed": a path that tries to climb out is a bug or an attack,
  and silently re-rooting it could overwrite another artifact;
- ``.`` and empty components (``a//b``, ``./a``) are dropped;
- NUL and other control characters, and text that cannot be encoded (lone surrogates), are
  refused; so are components longer than the file system allows once the partial-file suffix is
  added, and the names this package reserves for its own partial files;
- paths deeper than :data:`MAX_DEPTH` directories or longer than :data:`MAX_PATH_BYTES` are
  refused: no artifact tree needs them, the local file system would refuse them anyway (Linux's
  ``PATH_MAX`` is 4096 bytes, the destination included), and walking a thousand levels costs
  recursion (``os.makedirs``) that a hostile listing must not be able to exhaust;
- on Windows, reserved device names (``CON``, ``NUL``, ``COM1``...), the characters
  ``<>:"|?*`` and trailing dots or spaces are refused as well.

Containment against symbolic links already on disk needs I/O and is checked by the writer
(:func:`is_within`, applied to resolved paths); so are the links, FIFOs and hard links a hostile
file system can plant under the names the writer creates (see :mod:`.writer`). Because names
ending in the partial-file suffixes are refused here, every such name in a destination is the
downloader's own, which is what lets a later run remove the temporary files of a killed one
(:func:`is_temporary_name`).
"""

from __future__ import annotations

import os
import re
import unicodedata

from .errors import UnsafePathError

__all__ = [
    "MAX_COMPONENT_BYTES",
    "MAX_DEPTH",
    "MAX_PATH_BYTES",
    "PARTIAL_SUFFIX",
    "SIDECAR_SUFFIX",
    "collision_key",
    "is_temporary_name",
    "is_within",
    "safe_component",
    "safe_relative_path",
]

#: A resumable partial file is ``<name>.cci-partial`` with its resume record beside it,
#: ``<name>.cci-partial.json``; other temporary files are ``<name>.<8 hex>.cci-partial``.
PARTIAL_SUFFIX = ".cci-partial"
SIDECAR_SUFFIX = PARTIAL_SUFFIX + ".json"
_NAME_MAX = 255  # bytes, ext4/xfs/btrfs/APFS; NTFS counts 255 UTF-16 units, which is more
#: The longest component accepted, so that the temporary names built from it still fit.
MAX_COMPONENT_BYTES = _NAME_MAX - len(".01234567" + PARTIAL_SUFFIX)

#: Components up to this many characters fit in any case (UTF-8 takes at most 4 bytes each).
_SURELY_SHORT = MAX_COMPONENT_BYTES // 4

#: The most directories an artifact path may nest (the mirror adds a few levels above it).
MAX_DEPTH = 128
#: The longest artifact path accepted, in UTF-8 bytes, leaving room under ``PATH_MAX`` (4096)
#: for the destination, the mirror's own levels and the temporary-name suffix.
MAX_PATH_BYTES = 3072

_TEMPORARY = re.compile(r".+\.[0-9a-f]{8}" + re.escape(PARTIAL_SUFFIX), re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_WINDOWS_BAD = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
    | {f"COM{c}" for c in "¹²³"}
    | {f"LPT{c}" for c in "¹²³"}
)


def safe_relative_path(raw: object, *, windows: bool | None = None) -> str:
    """The normalised relative path (``/``-separated) for an artifact path, or
    :class:`UnsafePathError` saying why it is refused."""
    if not isinstance(raw, str):
        raise UnsafePathError("the artifact path is not a string", path=repr(raw))
    windows = os.name == "nt" if windows is None else windows
    if not raw:
        raise UnsafePathError("the artifact path is empty", path=raw)
    if "\x00" in raw:
        raise UnsafePathError("the artifact path contains a NUL byte", path=raw)
    if _CONTROL.search(raw):
        raise UnsafePathError("the artifact path contains a control character", path=raw)
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnsafePathError("the artifact path is not valid Unicode", path=raw) from None
    if size > MAX_PATH_BYTES:
        raise UnsafePathError(
            f"the artifact path is longer than {MAX_PATH_BYTES} bytes", path=_abridged(raw)
        )
    text = raw.replace("\\", "/")
    if text.startswith("/"):
        raise UnsafePathError("the artifact path is absolute", path=raw)
    if _DRIVE.match(text):
        raise UnsafePathError("the artifact path starts with a drive letter", path=raw)
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise UnsafePathError("the artifact path contains '..'", path=raw)
        if windows or len(part) > _SURELY_SHORT:  # (else it fits whatever its characters)
            _check_component(part, raw, windows)
        parts.append(part)
    if not parts:
        raise UnsafePathError("the artifact path names no file", path=raw)
    if len(parts) > MAX_DEPTH + 1:
        raise UnsafePathError(
            f"the artifact path is more than {MAX_DEPTH} directories deep", path=_abridged(raw)
        )
    last = parts[-1]
    if last.endswith((PARTIAL_SUFFIX, SIDECAR_SUFFIX)):
        raise UnsafePathError(
            f"names ending in {PARTIAL_SUFFIX!r} are reserved for partial downloads", path=raw
        )
    return "/".join(parts)


def _abridged(raw: str) -> str:
    """A long path as an error shows it: its start and end."""
    return raw if len(raw) <= 200 else f"{raw[:100]}...{raw[-60:]}"


def _check_component(part: str, raw: str, windows: bool) -> None:
    if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
        raise UnsafePathError(
            f"a component of the artifact path is longer than {MAX_COMPONENT_BYTES} bytes",
            path=raw,
        )
    if windows:
        if _WINDOWS_BAD.search(part):
            raise UnsafePathError(
                'the artifact path contains a character Windows forbids (<>:"|?*)', path=raw
            )
        if part.endswith((".", " ")):
            raise UnsafePathError(
                "a component of the artifact path ends with a dot or space", path=raw
            )
        stem = part.split(".", 1)[0].rstrip(" ").upper()
        if stem in _WINDOWS_RESERVED:
            raise UnsafePathError(
                f"the artifact path uses the reserved Windows name {stem!r}", path=raw
            )


def safe_component(name: object, *, fallback: str = "_", limit: int = 120) -> str:
    """One path component from a free-form name (a workflow or job name): separators, control
    and non-portable characters become ``_``; never empty, ``.`` or ``..``."""
    text = name if isinstance(name, str) else str(name)
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("_", text)
    text = re.sub(r'[\\/<>:"|?*]', "_", text).strip().rstrip(".")
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    if text in ("", ".", ".."):
        return fallback
    if text.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        return "_" + text
    return text


def collision_key(relative: str) -> str:
    """The key two paths collide under on some file system: Unicode-normalised (macOS) and
    case-folded (macOS, Windows)."""
    return unicodedata.normalize("NFC", relative).casefold()


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` (one component) is a unique temporary file of the writer,
    ``<name>.<8 hex>.cci-partial``; the resumable ``<name>.cci-partial`` is not one."""
    return _TEMPORARY.fullmatch(name) is not None


def is_within(root: str, candidate: str) -> bool:
    """Whether ``candidate`` is ``root`` or below it. Both must already be absolute and
    resolved (``os.path.realpath``); this compares them, it does not touch the disk."""
    root = os.path.normcase(root)
    candidate = os.path.normcase(candidate)
    if candidate == root:
        return True
    prefix = root if root.endswith(os.sep) else root + os.sep
    return candidate.startswith(prefix)


def short_component(name: object, *, suffix: str = "", limit: int = 120) -> str:
    """A path component for a free-form name that stays unique when it must be cut.

    Like :func:`safe_component`, then ``suffix`` (a job number, say: ``-1234``) is appended and
    always kept. When the cleaned name had to be changed to fit ``limit`` bytes, it ends in
    ``~`` and 8 hex digits of the SHA-256 of the whole original name, so two long names that
    share a prefix still get two directories."""
    import hashlib  # here, not at the top: this function was added at the end of the module

    text = name if isinstance(name, str) else str(name)
    clean = safe_component(text, limit=1 << 30)
    room = limit - len(suffix.encode("utf-8"))
    if len(clean.encode("utf-8")) <= room:
        return clean + suffix
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    tag = "~" + digest
    cut = clean.encode("utf-8")[: max(room - len(tag), 0)].decode("utf-8", "ignore")
    return safe_component(cut, limit=1 << 30) + tag + suffix
