"""What the downloader reads in an artifact response: ``Content-Range``, validators for
``If-Range``, and whether a body is an HTML page.

Sending, redirects, credentials per hop, the rate limiter and status errors are the request
pipeline's (:meth:`circleci_async._pipeline.RequestPipeline.stream`), shared with API calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

__all__ = [
    "BASE_HEADERS",
    "ContentRange",
    "html_expected",
    "is_html",
    "parse_content_range",
    "range_headers",
    "strong_validator",
]

#: Every artifact request asks for the bytes as stored, so that the byte count matches
#: ``Content-Length`` and ``Range`` offsets mean file offsets.
BASE_HEADERS: Mapping[str, str] = {"Accept": "*/*", "Accept-Encoding": "identity"}
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*/\s*(\d+|\*)\s*$", re.IGNORECASE)


@attrs.frozen
class ContentRange:
    start: int | None
    end: int | None
    total: int | None


def parse_content_range(value: str | None) -> ContentRange | None:
    """``bytes 100-199/1000``, ``bytes */1000`` or ``bytes 0-9/*``; ``None`` if malformed."""
    if not value:
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        return None
    first, last, total = match.groups()
    start = int(first) if first is not None else None
    end = int(last) if last is not None else None
    if start is not None and end is not None and end < start:
        return None
    return ContentRange(start, end, None if total == "*" else int(total))


def range_headers(offset: int, validator: str | None) -> Mapping[str, str]:
    """The request headers for the bytes from ``offset`` on (of the same file, if validated)."""
    if offset <= 0:
        return BASE_HEADERS
    headers = {**BASE_HEADERS, "Range": f"bytes={offset}-"}
    if validator:
        headers["If-Range"] = validator
    return headers


def html_expected(path: str) -> bool:
    return path.lower().rsplit(".", 1)[-1] in ("html", "htm", "xhtml", "xht", "shtml")


def is_html(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() in ("text/html", "application/xhtml+xml")


def strong_validator(headers: Mapping[str, str]) -> str | None:
    """The value for ``If-Range``: a strong ETag, else Last-Modified, else ``None``."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return str(etag)
    modified = headers.get("Last-Modified")
    return str(modified) if modified else None
