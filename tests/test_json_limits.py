"""Deeply nested JSON is a clear error with either JSON backend, never a RecursionError.

The client's decoder (``circleci_async._json``) and the fake's (``testing._codec``) are tried
directly with both backends, then end to end: a server of this test answers 100,000 nested
arrays, and the fake receives them as a request body. The end-to-end part runs twice, in this
process (orjson, when installed) and in a child process where orjson cannot be imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from circleci_async import CircleCI, CircleCIError, RateLimitConfig, _json
from circleci_async.errors import BadRequest, DecodeError
from circleci_async.testing import FakeCircleCI, _codec

TOKEN = "test-token-json-limits-0c1f"
HOSTILE = b"[" * 100_000
#: One level past orjson's limit, properly closed: a valid document both backends refuse.
TOO_DEEP = b"[" * (_json.MAX_DEPTH + 1) + b"]" * (_json.MAX_DEPTH + 1)
#: Deep but ordinary: both backends decode it.
DEEP_OK = b"[" * 200 + b"1" + b"]" * 200
ROOT = Path(__file__).resolve().parents[1]


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


# -- the decoders, both backends --------------------------------------------------------------


def _client_decoders() -> list[object]:
    decoders: list[object] = [_json.stdlib_loads]
    if _json.BACKEND == "orjson":
        decoders.append(_json.loads)
    return decoders


@pytest.mark.parametrize("decode", _client_decoders())
@pytest.mark.parametrize("body", [HOSTILE, HOSTILE.decode(), TOO_DEEP])
def test_client_decoder_refuses_deep_nesting_as_a_decode_error(
    decode: object, body: object
) -> None:
    assert callable(decode)
    with pytest.raises(json.JSONDecodeError, match=r"^depth limit exceeded") as info:
        decode(body)
    # What the pipeline catches (and turns into a DecodeError).
    assert isinstance(info.value, _json.JSONDecodeError)
    assert info.value.__cause__ is None


def test_both_client_backends_report_the_same_error() -> None:
    pytest.importorskip("orjson")
    import orjson

    for body in (HOSTILE, TOO_DEEP):
        with pytest.raises(orjson.JSONDecodeError) as fast:
            orjson.loads(body)
        with pytest.raises(json.JSONDecodeError) as slow:
            _json.stdlib_loads(body)
        assert str(slow.value) == str(fast.value)
        assert slow.value.pos == fast.value.pos


@pytest.mark.parametrize("decode", _client_decoders())
def test_client_decoder_still_decodes_ordinary_and_moderately_deep_bodies(decode: object) -> None:
    assert callable(decode)
    assert decode(b'{"items":[{"id":"a","n":[1,2]}],"next_page_token":null}') == {
        "items": [{"id": "a", "n": [1, 2]}],
        "next_page_token": None,
    }
    assert decode(DEEP_OK) == _nested(200)


def test_depth_error_position_ignores_brackets_inside_strings() -> None:
    # 2000 brackets inside a string do not nest; the 1025 real ones do.
    doc = '["' + "[" * 2000 + '",' + "[" * (_json.MAX_DEPTH) + "]" * _json.MAX_DEPTH + "]"
    error = _json.depth_error(doc)
    assert error.msg == "depth limit exceeded"
    assert error.pos == len('["' + "[" * 2000 + '",') + _json.MAX_DEPTH
    # A document the decoder gave up on before the limit: the deepest point is reported.
    shallow = _json.depth_error('{"a":[[[' + '"x]]]"' + "]]]}")
    assert shallow.pos == len('{"a":[[[')


def _fake_decoders() -> list[object]:
    decoders: list[object] = [_codec.stdlib_loads]
    if _json.BACKEND == "orjson":
        decoders.append(_codec.loads)
    return decoders


@pytest.mark.parametrize("decode", _fake_decoders())
def test_fake_decoder_refuses_deep_nesting_as_a_value_error(decode: object) -> None:
    assert callable(decode)
    for body in (HOSTILE, TOO_DEEP):
        with pytest.raises(ValueError, match="depth limit exceeded"):
            decode(body)
    assert decode(DEEP_OK) == _nested(200)


# -- end to end -------------------------------------------------------------------------------


@asynccontextmanager
async def _hostile_api() -> AsyncIterator[str]:
    """An API answering nested arrays: 200 with 100,000 of them, 200 one past the limit, 400."""

    answers = {
        "/api/v2/hostile": (200, HOSTILE),
        "/api/v2/too-deep": (200, TOO_DEEP),
        "/api/v2/deep-ok": (200, DEEP_OK),
        "/api/v2/hostile-400": (400, HOSTILE),
    }

    async def answer(request: web.Request) -> web.Response:
        status, body = answers[request.path]
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    for path in answers:
        app.router.add_get(path, answer)

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}/api/v2"
    finally:
        await runner.cleanup()


async def check_end_to_end() -> None:
    """Every hostile body ends in a CircleCIError, and the fake answers a deep body with a 400."""
    unpaced = RateLimitConfig(initial_rate=None)
    async with (
        _hostile_api() as base_url,
        CircleCI(TOKEN, base_url=base_url, rate_limit=unpaced) as cci,
    ):
        for path in ("hostile", "too-deep"):
            with pytest.raises(DecodeError, match="depth limit exceeded") as info:
                await cci.request("GET", path)
            assert isinstance(info.value, CircleCIError)
            assert info.value.status == 200
        assert await cci.request("GET", "deep-ok") == _nested(200)
        with pytest.raises(BadRequest) as refused:
            await cci.request("GET", "hostile-400")
        assert refused.value.status == 400

    async with FakeCircleCI(token=TOKEN) as fake, aiohttp.ClientSession() as http:
        for body in (HOSTILE, TOO_DEEP):
            async with http.post(
                f"{fake.url}/context",
                data=body,
                headers={"Circle-Token": TOKEN, "Content-Type": "application/json"},
            ) as resp:
                assert resp.status == 400, resp.status
                assert (await resp.json())["message"] == "Request body is not valid JSON."
        # The fake is still serving.
        async with http.get(f"{fake.url}/me", headers={"Circle-Token": TOKEN}) as resp:
            assert resp.status == 200


async def test_deep_json_end_to_end_with_the_installed_backend() -> None:
    await check_end_to_end()


_CHILD = """
import asyncio, sys
sys.modules["orjson"] = None  # importing it now fails: the stdlib backends are chosen
from circleci_async import _json
from circleci_async.testing import _codec
assert _json.BACKEND == "json", _json.BACKEND
assert _json.loads is _json.stdlib_loads and _codec.loads is _codec.stdlib_loads
from tests.test_json_limits import check_end_to_end
asyncio.run(check_end_to_end())
print("end-to-end ok")
"""


def test_deep_json_end_to_end_without_orjson() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().endswith("end-to-end ok")
    assert "RecursionError" not in done.stderr
