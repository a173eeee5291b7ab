"""JSON for the fake: orjson when importable, the standard library otherwise.

A copy of the idea in ``circleci_async._json``, kept separate on purpose: the fake must not
import the client it is used to test. Deeply nested request bodies are a ``ValueError`` with
either backend (orjson refuses depth > 1024 itself; the standard library's ``RecursionError``
is turned into one), so a hostile client gets a 400, never a crashed handler.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps", "loads", "stdlib_loads"]


def stdlib_loads(data: bytes | str) -> Any:
    """``json.loads``, with too-deep nesting as a ``JSONDecodeError`` instead of a RecursionError."""
    try:
        return json.loads(data)
    except RecursionError:
        doc = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        raise json.JSONDecodeError("depth limit exceeded", doc, 0) from None


try:
    import orjson
except ImportError:  # pragma: no cover - exercised only without orjson

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    loads = stdlib_loads

else:

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)
