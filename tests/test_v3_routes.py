"""API v3 coverage against the notes' route table (``tests/fixtures/v3_routes.json``, transcribed
from ``shared/notes/api-v3.md`` §2): every v3 operation the client registers is a route of the
table, with its method and path as the notes write them, and every route of the table is either
implemented or listed below as not implemented yet."""

from __future__ import annotations

import json
from pathlib import Path

from circleci_async import CircleCI, operations

TABLE = Path(__file__).parent / "fixtures" / "v3_routes.json"

#: Routes of the table with no method yet: none. The table holds §2.1-§2.10 only: the routes
#: §2.11 names ("mentioned
#: only in drafts, help text or third-party prose": ``POST /runs``, ``POST /contexts``,
#: ``/analysis/jobs``, ``/events/...``, ...) are left out on purpose, since no client calls them
#: and their shapes conflict between sources; building them would be guessing.
NOT_IMPLEMENTED: set[tuple[str, str]] = set()


def _table() -> set[tuple[str, str]]:
    routes = json.loads(TABLE.read_text())["routes"]
    return {(route["method"], route["path"]) for route in routes}


def test_every_v3_operation_is_a_route_of_the_notes() -> None:
    table = _table()
    v3 = [op for op in operations() if op.version == "v3"]
    assert v3, "no v3 operation registered"
    for op in v3:
        assert (op.method, op.path) in table, op
        assert op.name.startswith("cci.v3."), op
        assert op.operation_id.startswith("v3."), op


def test_every_route_of_the_notes_is_implemented_or_listed_as_missing() -> None:
    table = _table()
    implemented = {(op.method, op.path) for op in operations() if op.version == "v3"}
    assert table >= NOT_IMPLEMENTED, NOT_IMPLEMENTED - table
    assert not implemented & NOT_IMPLEMENTED, implemented & NOT_IMPLEMENTED
    assert implemented | NOT_IMPLEMENTED == table, table - implemented - NOT_IMPLEMENTED


def test_versions_and_retry_flags_are_on_the_registry() -> None:
    by_id = {op.operation_id: op for op in operations()}
    assert by_id["getCurrentUser"].version == "v2"
    assert by_id["listRunners"].version == "runner"
    assert by_id["v3.getRun"].version == "v3"
    # Only the search is retried after a 5xx; the actions are not (no POST is documented as
    # idempotent).
    assert by_id["v3.searchRuns"].idempotent is True
    assert by_id["v3.rerunWorkflow"].idempotent is None
    assert by_id["v3.cancelWorkflow"].idempotent is None
    # No other POST is documented as safe to repeat (§6.5): creates, setups (a fresh state
    # token each time), compiles and the charges search are sent once.
    posts = [op for op in operations() if op.version == "v3" and op.method == "POST"]
    assert {op.operation_id for op in posts if op.idempotent} == {"v3.searchRuns"}


def test_every_v3_operation_is_reachable_by_its_name() -> None:
    cci = CircleCI("t")
    for op in operations():
        if op.version != "v3":
            continue
        target: object = cci
        for part in op.name.split(".")[1:]:
            target = getattr(target, part)
        assert target.__operation_id__ == op.operation_id


def test_every_page_limit_names_a_registered_v3_list() -> None:
    from circleci_async.v3._limits import PAGE_LIMITS

    by_id = {op.operation_id: op for op in operations() if op.version == "v3"}
    for operation_id in PAGE_LIMITS:
        assert operation_id in by_id, operation_id
