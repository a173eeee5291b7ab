"""JSON codec: orjson when installed (the ``speed`` extra), the standard library otherwise.

Decoding straight from bytes avoids a str copy of every response body; orjson roughly halves
the decode cost of a 10 KB page, which is most of the client's CPU per request.

Both backends refuse absurdly deep nesting the same way: a :class:`json.JSONDecodeError`
(a ``ValueError``) saying ``depth limit exceeded``, never a ``RecursionError``. orjson stops
past 1024 levels by itself. The standard library's C scanner counts its recursion against the
interpreter's recursion limit (so its stack stays bounded) and raises ``RecursionError`` there;
:func:`stdlib_loads` turns that into the same error orjson raises. Only that failure pays for
the conversion: ordinary bodies take the decoder's own path, unwrapped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "BACKEND",
    "MAX_DEPTH",
    "JSONDecodeError",
    "depth_error",
    "dumps",
    "loads",
    "stdlib_dumps",
    "stdlib_loads",
]

MAX_DEPTH = 1024
"""orjson's nesting limit; the error position is reported against it for both backends."""

# A string (so brackets inside it do not count) or one bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]', re.DOTALL)


def depth_error(doc: bytes | str) -> json.JSONDecodeError:
    """The error for a document nested too deep, positioned as orjson positions it.

    The position is just past the first bracket deeper than :data:`MAX_DEPTH`, or past the
    deepest one when the decoder gave up earlier (a lower recursion limit). Runs only on the
    failure path, once per hostile body.
    """
    text = doc.decode("utf-8", "replace") if isinstance(doc, bytes | bytearray) else str(doc)
    depth = deepest = position = 0
    for match in _TOKEN.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest, position = depth, match.end()
                if depth > MAX_DEPTH:
                    break
        elif char in "]}":
            depth -= 1
    return json.JSONDecodeError("depth limit exceeded", text, position)


def stdlib_loads(data: bytes | str) -> Any:
    """``json.loads``, with too-deep nesting as a ``JSONDecodeError`` instead of a RecursionError."""
    try:
        return json.loads(data)
    except RecursionError:
        raise depth_error(data) from None


def stdlib_dumps(obj: Any) -> bytes:
    """Compact JSON bytes, as orjson writes them."""
    return json.dumps(obj, separators=(",", ":")).encode()


JSONDecodeError: tuple[type[Exception], ...]

try:
    import orjson

    BACKEND = "orjson"
    JSONDecodeError = (orjson.JSONDecodeError, ValueError)
    # Bound directly, not wrapped: this runs once per response. orjson refuses depth > 1024
    # with its JSONDecodeError (a json.JSONDecodeError), as stdlib_loads does.
    loads: Callable[[bytes | str], Any] = orjson.loads

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - exercised only without the speed extra
    BACKEND = "json"
    JSONDecodeError = (ValueError,)
    loads = stdlib_loads
    dumps = stdlib_dumps
