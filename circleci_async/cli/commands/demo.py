"""``demo``: the mirror against a seeded fake CircleCI in this process (the flow itself is in
:mod:`..demo`)."""

from __future__ import annotations

import click

from ..options import json_option

__all__ = ["demo"]


@click.command()
@click.option(
    "--dest",
    type=click.Path(file_okay=False, writable=True),
    help="Where to mirror (default: a new temporary directory, removed at the end unless --keep).",
)
@click.option("--keep", is_flag=True, help="Keep the temporary directory (and print it).")
@click.option(
    "--files",
    type=click.IntRange(min=1, max=5000),
    default=300,
    show_default=True,
    help="About how many artifacts to serve.",
)
@click.option(
    "--rate",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="The fake's per-second request limit, low enough that the limiter visibly paces.",
)
@json_option
def demo(dest: str | None, keep: bool, files: int, rate: int, as_json: bool) -> int:
    """Mirror a seeded fake CircleCI running in this process: pipelines, workflows, parallel
    jobs, a few hundred artifacts redirected to a storage host, and a rate limit. No token, no
    network."""
    import asyncio

    from ..demo import run_demo

    return asyncio.run(run_demo(dest=dest, keep=keep, files=files, rate=rate, as_json=as_json))
