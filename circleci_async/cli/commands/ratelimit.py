"""``rate-limit``: what the server says about the token's rate limit now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..options import json_option, run_client

if TYPE_CHECKING:
    from ...client import CircleCI

__all__ = ["rate_limit"]


@click.command("rate-limit")
@json_option
@click.pass_context
def rate_limit(ctx: click.Context, as_json: bool) -> int:
    """What the server says about your rate limit now (after one cheap request: who am I)."""
    from ..errors import ExitCode
    from ..render import emit_json, rate_limit_json, rate_limit_table, stdout_console

    async def work(cci: CircleCI) -> int:
        me = await cci.users.me()
        view, stats = cci.rate_limit, cci.stats
        if as_json:
            emit_json(rate_limit_json(me.login, view, stats))
        else:
            stdout_console().print(rate_limit_table(view, stats, me.login))
        return ExitCode.OK

    return run_client(ctx, work)
