"""The CLI on many workers: ``--shared-limit URL`` (or ``$CIRCLECI_SHARED_LIMIT``) puts every
process on one Redis budget, ``--shard I/N`` splits one mirror between them. The workers are
real ``circleci-async`` processes; Redis is a real ``redis-server`` (tests/_redis_server.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from circleci_async.cli.session import Settings
from circleci_async.testing import FakeCircleCI, RateLimitPolicy, Window
from circleci_async.testing.artifacts import ArtifactServers

from ._cli_fixtures import hosts  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, TOKEN, api_args, child_env, cli, finish, host_args, start, write_ca
from ._download_support import tree
from ._redis_server import RedisServer, redis_server
from .test_cli import seed_artifacts

__all__ = ["redis_server"]  # the fixture, imported for pytest

redis_asyncio = pytest.importorskip("redis.asyncio")

#: Binding for two processes pacing alone: each would learn 8/s and spend it in full.
BINDING = RateLimitPolicy(windows=(Window(8, 1),))


@pytest.fixture
async def api() -> AsyncIterator[FakeCircleCI]:
    async with FakeCircleCI(token=TOKEN, rate_limit=BINDING) as server:
        server.add_project(SLUG)
        yield server


async def redis_keys(url: str) -> list[bytes]:
    client = redis_asyncio.from_url(url)
    try:
        return list(await client.keys("*"))
    finally:
        await client.aclose()


async def test_two_mirror_workers_on_one_shared_limit_draw_no_429(
    api: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path, redis_server: RedisServer
) -> None:
    seed_artifacts(api, hosts, pipelines=8)
    assert await redis_keys(redis_server.url) == []
    cafile = write_ca(hosts, tmp_path / "ca.pem")
    dest = tmp_path / "mirror"
    base = [*api_args(api), *host_args(hosts, cafile), "mirror", SLUG, str(dest), "--json"]
    procs = [
        # one worker takes the option, the other the environment variable
        await start(*base, "--shard", "0/2", "--shared-limit", redis_server.url),
        await start(*base, "--shard", "1/2", env=child_env(CIRCLECI_SHARED_LIMIT=redis_server.url)),
    ]
    runs = [await finish(p, timeout=120) for p in procs]
    for run in runs:
        assert run.code == 0, run
    reports = [run.json() for run in runs]
    assert [r["pipelines"] for r in reports] == [4, 4]
    assert sum(r["downloaded"] for r in reports) == 8 * 4
    assert api.rate_limited_count == 0, [run.err for run in runs]
    assert all(r["api"]["rate_limited"] == 0 for r in reports)
    assert all(run.err == "" for run in runs)  # no fallback: Redis answered throughout
    assert len(api.requests) > 2 * 8  # enough requests for the limit to bind
    assert await redis_keys(redis_server.url)  # the budget lived in Redis
    manifests = sorted(p for p in tree(dest) if p.startswith("manifest"))
    assert manifests == ["manifest.shard-0-of-2.jsonl", "manifest.shard-1-of-2.jsonl"]


async def test_a_bad_shared_limit_url_is_one_line_without_the_password(
    api: FakeCircleCI,
) -> None:
    run = await cli(*api_args(api), "pipelines", SLUG, "--shared-limit", "http://u:hunter2@x/0")
    assert run.code == 3, run
    assert run.err_lines == [
        "circleci-async: error: --shared-limit: not a Redis URL "
        "(expected redis://, rediss:// or unix://)"
    ]
    assert "hunter2" not in run.out + run.err
    assert api.requests == []


async def test_shared_limit_without_the_redis_extra_is_one_clear_line(
    api: FakeCircleCI, tmp_path: Path
) -> None:
    # A redis that cannot be imported, first on the child's path: the extra "not installed".
    (tmp_path / "redis").mkdir()
    (tmp_path / "redis" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'redis'\", name='redis')\n"
    )
    env = child_env()
    env["PYTHONPATH"] = f"{tmp_path}:{env.get('PYTHONPATH', '')}"
    run = await cli(
        *api_args(api), "pipelines", SLUG, "--shared-limit", "redis://127.0.0.1:1/0", env=env
    )
    assert run.code == 2, run
    assert run.err_lines == [
        "circleci-async: error: --shared-limit needs the redis extra: "
        "pip install 'circleci-async[redis]'"
    ]
    assert api.requests == []


@pytest.mark.parametrize("shard", ["4/4", "0/0", "a/b", "1"])
async def test_a_bad_shard_is_a_usage_error_before_any_request(
    api: FakeCircleCI, tmp_path: Path, shard: str
) -> None:
    run = await cli(*api_args(api), "mirror", SLUG, str(tmp_path / "m"), "--shard", shard)
    assert run.code == 2, run
    assert len(run.err_lines) == 1 and "--shard" in run.err, run
    assert api.requests == []
    assert not (tmp_path / "m").exists()


def test_the_shared_limit_password_is_a_secret() -> None:
    settings = Settings(shared_limit="redis://worker:hunter2@redis.internal:6379/0")
    assert "hunter2" in settings.secrets()
    assert "hunter2" not in repr(settings) and "redis.internal" not in repr(settings)
    assert Settings(shared_limit="redis://127.0.0.1:6379/0").secrets() == ()
