"""Startup (issue 14, item 8): ``--help``, ``--version`` and a command's ``--help`` load neither
aiohttp nor the client, only the command line; every public name of the package is still
importable, each on first use. Which modules get imported is checked, not timing (the
benchmark machine measures that)."""

from __future__ import annotations

import asyncio
import json

import pytest

from circleci_async.cli.options import LAYOUTS, SKIP_POLICIES
from circleci_async.download import Layout, SkipPolicy

from ._cli_support import python

HEAVY = ("aiohttp", "circleci_async.client", "circleci_async._core", "circleci_async.download")

PROBE = """
import json, sys
from circleci_async.cli import main
try:
    main({args!r})
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print()
print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["-V"], ["pipelines", "--help"], ["mirror", "--help"], []],
)
async def test_help_and_version_import_only_the_command_line(args: list[str]) -> None:
    run = await python(PROBE.format(args=args))
    found = json.loads(run.out.strip().splitlines()[-1])
    assert found["code"] in (0, None), run
    loaded = [m for m in found["modules"] if m.split(".")[0] == "aiohttp" or m.startswith(HEAVY)]
    assert loaded == [], loaded
    assert "circleci_async.cli.app" in found["modules"]  # the probe did run the command line


async def test_every_public_name_is_still_importable_lazily() -> None:
    run = await python(
        "import sys, circleci_async as c\n"
        "before = 'aiohttp' in sys.modules\n"
        "from circleci_async import CircleCI, NotFound, errors, operations, __version__\n"
        "missing = [n for n in c.__all__ if getattr(c, n, None) is None]\n"
        "print(before, missing, CircleCI.__module__, errors.__name__, sorted(c.__all__) == "
        "sorted(set(dir(c)) & set(c.__all__)))"
    )
    assert run.out.split() == [
        "False",
        "[]",
        "circleci_async.client",
        "circleci_async.errors",
        "True",
    ], run


async def test_a_name_that_does_not_exist_is_an_attribute_error() -> None:
    run = await python(
        "import circleci_async\n"
        "try:\n    circleci_async.NoSuchThing\n"
        "except AttributeError as exc:\n    print('AttributeError', exc)\n"
    )
    assert run.out.startswith("AttributeError module 'circleci_async' has no attribute"), run


def test_the_cli_spells_the_download_choices_as_the_library_does() -> None:
    assert tuple(p.value for p in SkipPolicy) == SKIP_POLICIES
    assert tuple(layout.value for layout in Layout) == LAYOUTS


async def test_a_command_loads_what_it_needs_when_it_runs(unused_tcp_port: int) -> None:
    base = f"http://127.0.0.1:{unused_tcp_port}/api/v2"  # nothing listens: refused, no network
    args = ["--base-url", base, "--retries", "1", "rate-limit"]
    run = await asyncio.wait_for(python(PROBE.format(args=args)), 30)
    found = json.loads(run.out.strip().splitlines()[-1])
    assert found["code"] == 7, run  # it got as far as connecting
    assert "aiohttp" in found["modules"] and "circleci_async.client" in found["modules"]
