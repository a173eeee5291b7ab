"""``rate-limit``: what the server says about the token's rate limit now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ...ratelimit.bucket import RateLimitView
from ..options import json_option, run_client

if TYPE_CHECKING:
    from ...client import CircleCI

__all__ = ["explain", "rate_limit"]


def explain(view: RateLimitView) -> str:
    """The binding window in words: what limits you now and what the client does about it."""
    if view.source is None:
        return "The server sent no rate-limit headers: the client paces itself politely."
    span = _duration(view.window) if view.window else "an unspecified window"
    what = f"{view.limit} requests per {span}" if view.limit is not None else f"a {span} window"
    parts = [f"The tightest limit now is {what} ({view.source})"]
    if view.remaining is not None:
        left = f"{view.remaining} left"
        if view.reset_after is not None:
            left += f", refilling in {_duration(view.reset_after)}"
        parts.append(left)
    text = "; ".join(parts) + "."
    if view.blocked_for > 0:
        text += f" Requests are held for {_duration(view.blocked_for)} (the server said wait)."
    elif view.rate is not None:
        text += f" The client spreads what is left evenly: about {view.rate:.2f} requests/s."
    return text


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return "minute" if minutes == 1 else f"{minutes} minutes"
    if seconds == 1:
        return "second"
    return f"{seconds:.0f} seconds" if seconds >= 1 else f"{seconds:.2f} seconds"


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
            stdout_console().print(explain(view))
        return ExitCode.OK

    return run_client(ctx, work)
