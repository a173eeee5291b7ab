"""Options anywhere on the command line, as the official CircleCI CLI takes them.

click reads a group's options before the subcommand and the command's after it, so
``circleci-async pipelines gh/a/b --token T`` would be refused. :func:`reorder` moves the
group's options found after the subcommand to before it, and ``--json`` (every command's option)
found before the subcommand to after it. It is pure (a list in, a list out) and conservative:
anything after ``--``, an option the command itself declares, and the value of a command option
stay where they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import click

__all__ = ["option_arity", "reorder"]

#: Options every command has; before the subcommand they are moved after it.
COMMAND_FLAGS = frozenset({"--json"})


def option_arity(params: Iterable[click.Parameter]) -> dict[str, bool]:
    """Option name → whether it takes a value (``--token T``) or is a flag (``--json``)."""
    arity: dict[str, bool] = {}
    for param in params:
        if isinstance(param, click.Option):
            takes_value = not param.is_flag and not param.count
            for name in (*param.opts, *param.secondary_opts):
                arity[name] = takes_value
    return arity


def _name(arg: str) -> str | None:
    """The option an argument names (``--token=T`` → ``--token``), or None for a value."""
    if len(arg) < 2 or not arg.startswith("-"):
        return None
    return arg.partition("=")[0]


def reorder(
    args: Sequence[str],
    group: Mapping[str, bool],
    command_of: Mapping[str, Mapping[str, bool]],
    *,
    keep: Iterable[str] = (),
) -> list[str]:
    """``args`` with the group's options (``group``: name → takes a value) moved before the
    subcommand and :data:`COMMAND_FLAGS` after it. ``command_of`` gives each subcommand's
    options; ``keep`` names group options never moved (help, version)."""
    fixed = frozenset(keep)
    head: list[str] = []
    down: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        name = _name(arg)
        if arg == "--" or name is None:
            break
        if name in COMMAND_FLAGS and name not in group:
            down.append(arg)
            index += 1
            continue
        width = 2 if group.get(name) and "=" not in arg else 1
        head.extend(args[index : index + width])
        index += width
    if index >= len(args) or args[index] == "--" or args[index] not in command_of:
        return list(args)  # no subcommand: nothing to move; click reports what is wrong
    command = args[index]
    own = command_of[command]
    up: list[str] = []
    tail: list[str] = []
    rest = index + 1
    while rest < len(args):
        arg = args[rest]
        name = _name(arg)
        if arg == "--":
            tail.extend(args[rest:])
            break
        if name is not None and name in own:
            width = 2 if own[name] and "=" not in arg else 1
            tail.extend(args[rest : rest + width])
            rest += width
            continue
        if name is not None and name in group and name not in fixed:
            width = 2 if group[name] and "=" not in arg else 1
            if rest + width <= len(args):
                up.extend(args[rest : rest + width])
                rest += width
                continue
        tail.append(arg)
        rest += 1
    return [*head, *up, command, *down, *tail]
