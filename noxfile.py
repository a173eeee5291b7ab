"""Developer tasks: ``nox -s tests``, ``nox -s lint``, ``nox -s typecheck``, ``nox -s benchmarks``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, against the project's own fake CircleCI server on loopback."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "circleci_async")


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Library against raw aiohttp in one run; prints ratios (not timed tests)."""
    session.install("-e", ".[dev]")
    for script in (
        "bench_requests.py",
        "bench_ratelimit.py",
        "bench_download.py",
        "bench_polling.py",
        "bench_startup.py",
        "bench_v3_output.py",
        "bench_shared_limit.py",  # needs redis-server on PATH
    ):
        session.run("python", f"benchmarks/{script}", *session.posargs)
