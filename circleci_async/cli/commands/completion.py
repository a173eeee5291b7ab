"""``completion``: the shell completion script, from click's own completion machinery.

The script calls ``circleci-async`` back with ``_CIRCLECI_ASYNC_COMPLETE`` set; click answers
with the commands, options and choices that fit (:func:`~..app.main` passes that through).
"""

from __future__ import annotations

import click

__all__ = ["COMPLETE_VAR", "completion"]

#: click's variable for ``circleci-async`` (``_<PROG_NAME>_COMPLETE``).
COMPLETE_VAR = "_CIRCLECI_ASYNC_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> int:
    """Print the completion script for SHELL. Install it with one of:

    \b
      bash: eval "$(circleci-async completion bash)"        (in ~/.bashrc)
      zsh:  eval "$(circleci-async completion zsh)"         (in ~/.zshrc)
      fish: circleci-async completion fish > ~/.config/fish/completions/circleci-async.fish
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    found = get_completion_class(shell)
    assert found is not None  # the choice allows only shells click knows
    script = found(root, {}, "circleci-async", COMPLETE_VAR).source()
    click.echo(script, nl=not script.endswith("\n"))
    return 0
