"""API v3 coverage against the notes' route table (``tests/fixtures/v3_routes.json``, transcribed
from ``shared/notes/api-v3.md`` §2): every v3 operation the client registers is a route of the
table, with its method and path as the notes write them, and every route of the table is either
implemented or listed below as not implemented yet."""

from __future__ import annotations

import json
from pathlib import Path

from circleci_async import CircleCI, operations

TABLE = Path(__file__).parent / "fixtures" / "v3_routes.json"

#: Routes of the table with no method yet: the next engineer removes them from here as they
#: are built (job output and tests, resource usage, then the other families).
NOT_IMPLEMENTED = {
    ("POST", "/orgs/{id}/update-settings"),
    ("POST", "/projects/{id}/update-settings"),
    ("DELETE", "/projects/{id}/dlc"),
    ("POST", "/projects/{id}/rollback"),
    ("GET", "/groups"),
    ("GET", "/pipelines"),
    ("POST", "/pipelines"),
    ("GET", "/triggers"),
    ("POST", "/triggers"),
    ("POST", "/configs/compile"),
    ("GET", "/contexts"),
    ("GET", "/contexts/{id}"),
    ("GET", "/contexts/{id}/env-vars"),
    ("POST", "/contexts/{id}/env-vars/set"),
    ("DELETE", "/contexts/{id}/env-vars"),
    ("GET", "/context-restrictions"),
    ("POST", "/context-restrictions"),
    ("DELETE", "/context-restrictions/{id}"),
    ("GET", "/provider/connections"),
    ("POST", "/provider/connections/setup"),
    ("GET", "/provider/repositories"),
    ("GET", "/deploy/deployments"),
    ("GET", "/deploy/components"),
    ("GET", "/deploy/components/{id}"),
    ("GET", "/deploy/components/{id}/versions"),
    ("GET", "/deploy/environments"),
    ("GET", "/deploy/environments/{id}"),
    ("GET", "/deploy/settings"),
    ("POST", "/signing/certificates"),
    ("GET", "/signing/certificates"),
    ("DELETE", "/signing/certificates/{id}"),
    ("POST", "/signing/configs"),
    ("GET", "/signing/configs"),
    ("DELETE", "/signing/configs/{id}"),
    ("POST", "/signing/configs/{id}/update-profile"),
    ("POST", "/signing/configs/{id}/remove-profile"),
    ("GET", "/namespaces"),
    ("POST", "/namespaces"),
    ("POST", "/namespaces/{id}/rename"),
    ("DELETE", "/namespaces/{id}"),
    ("GET", "/orb/packages"),
    ("GET", "/orb/packages/{id}"),
    ("POST", "/orb/packages"),
    ("POST", "/orb/packages/validate"),
    ("POST", "/orb/packages/{id}/set-listed"),
    ("POST", "/orb/packages/{id}/add-category"),
    ("POST", "/orb/packages/{id}/remove-category"),
    ("GET", "/orb/versions"),
    ("GET", "/orb/versions/{id}"),
    ("GET", "/orb/versions/{id}/source"),
    ("POST", "/orb/versions"),
    ("POST", "/orb/versions/{id}/promote"),
    ("GET", "/orb/categories"),
    ("GET", "/function/packages"),
    ("GET", "/tool/releases"),
    ("POST", "/analysis/charges"),
    ("GET", "/runner/resource-classes"),
    ("POST", "/runner/resource-classes"),
    ("GET", "/runner/resource-classes/{id}"),
    ("POST", "/runner/resource-classes/{id}/update"),
    ("DELETE", "/runner/resource-classes/{id}"),
    ("GET", "/runner/agents"),
    ("POST", "/runner/tokens"),
}


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


def test_every_v3_operation_is_reachable_by_its_name() -> None:
    cci = CircleCI("t")
    for op in operations():
        if op.version != "v3":
            continue
        target: object = cci
        for part in op.name.split(".")[1:]:
            target = getattr(target, part)
        assert target.__operation_id__ == op.operation_id
