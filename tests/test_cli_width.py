"""Tables at the terminal's width (issue 14, item 2): at 80 columns ids and paths are whole and
every line fits, by leaving columns out or stacking the rows; at 200 columns the full table.
The CLI runs as a subprocess against the fake with ``COLUMNS`` set, as a terminal would."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from circleci_async.cli.render import simple_table
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import serve_artifact_listing

from ._cli_fixtures import api  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, api_args, child_env, cli


def first(out: str) -> str:
    return next(text for text in out.splitlines() if text.strip())


def at(columns: int) -> dict[str, str]:
    return child_env(COLUMNS=str(columns))


async def test_pipelines_at_80_and_200_columns(api: FakeCircleCI) -> None:
    made = [
        api.add_pipeline(SLUG, branch)
        for branch in ("main", "feature/a-rather-long-branch-name", "dev")
    ]
    narrow, wide = await asyncio.gather(
        cli(*api_args(api), "pipelines", SLUG, env=at(80)),
        cli(*api_args(api), "pipelines", SLUG, env=at(200)),
    )
    assert narrow.code == 0 and wide.code == 0, (narrow, wide)
    lines = [text for text in narrow.out.splitlines() if text.strip()]
    assert all(len(text) <= 80 for text in lines), narrow
    header = lines[0].split()
    assert header[:2] == ["#", "state"] and header[-1] == "id", narrow
    for pipeline in made:  # whole ids, their numbers and full states on one row each
        row = next(text for text in lines if pipeline["id"] in text)
        assert row.split()[0] == str(pipeline["number"]), narrow
        assert pipeline["state"] in row.split(), narrow
    wide_header = next(text for text in wide.out.splitlines() if text.strip()).split()
    assert wide_header == ["#", "state", "branch", "created", "trigger", "actor", "id"], wide
    assert "feature/a-rather-long-branch-name" in wide.out


async def test_artifact_paths_are_never_cut(api: FakeCircleCI) -> None:
    medium = "reports/" + "x" * 30 + "/junit.xml"  # fits at 80 without its URL
    huge = "deep/" + "/".join(f"level-{i:02d}" for i in range(14)) + "/screenshot.png"
    base = "https://output.circle-artifacts.com/output/job/6f0e3d1b/artifacts/0/"
    serve_artifact_listing(api, SLUG, 1, [{"path": medium, "node_index": 0, "url": base + medium}])
    serve_artifact_listing(
        api,
        SLUG,
        2,
        [
            {"path": medium, "node_index": 0, "url": base + medium},
            {"path": huge, "node_index": 1, "url": base + huge},
        ],
    )
    table80, stacked80, full200 = await asyncio.gather(
        cli(*api_args(api), "artifacts", SLUG, "1", env=at(80)),
        cli(*api_args(api), "artifacts", SLUG, "2", env=at(80)),
        cli(*api_args(api), "artifacts", SLUG, "1", env=at(200)),
    )
    assert table80.code == stacked80.code == full200.code == 0
    assert all(len(text) <= 80 for text in table80.out.splitlines()), table80
    assert medium in table80.out and "url" not in first(table80.out), table80
    # a path longer than the terminal: stacked, each value whole on its own line
    lines = stacked80.out.splitlines()
    assert f"path  {huge}" in [text.strip() for text in lines], stacked80
    assert f"url  {base + huge}" in [text.strip() for text in lines], stacked80
    assert first(full200.out).split() == ["path", "node", "url"], full200
    assert base + medium in full200.out


def test_the_layout_drops_columns_in_order_then_stacks() -> None:
    table = simple_table(
        ("id", "name", "extra"), [("a" * 36, "n" * 10, "e" * 20)], drop=("extra", "name")
    )
    assert table.layout(200) == ["id", "name", "extra"]
    assert table.layout(50) == ["id", "name"]
    assert table.layout(40) == ["id"]
    assert table.layout(30) is None
    out = io.StringIO()
    Console(file=out, width=30, color_system=None).print(table, crop=False)
    assert out.getvalue().splitlines() == [
        "   id  " + "a" * 36,
        " name  " + "n" * 10,
        "extra  " + "e" * 20,
    ]
