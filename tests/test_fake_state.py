"""The fake's state, split into records, stores, seeding and queries: the seams hold (no module
reads another's private names, the old import paths still work) and the behaviour that crosses
them (deleting an organization, deterministic seeding, keyset pages) is the same over HTTP."""

from __future__ import annotations

import ast
import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import circleci_async.testing as testing_pkg
from circleci_async.testing import FakeCircleCI, _queries, _records, _seeding, _state, _stores

from .conftest import TOKEN

TESTING = Path(testing_pkg.__file__).parent


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        headers={"Circle-Token": TOKEN}, timeout=aiohttp.ClientTimeout(total=10)
    ) as session:
        yield session


# -- the seams -----------------------------------------------------------------------------


def test_every_name_importable_from_state_before_the_split_still_is() -> None:
    names = [
        "SEED_EPOCH",
        "ApiError",
        "FakeState",
        "JobRec",
        "OrgRec",
        "PipelineRec",
        "ProjectRec",
        "TestRec",
        "UserRec",
        "WorkflowRec",
        "check_parameters",
        "decode_page_token",
        "encode_page_token",
        "iso",
        "page_of",
        "render_config",
        "ORG_PIPELINES_MAX",
        "PIPELINE_STATES",
        "WORKFLOW_UNFINISHED",
        "JOB_UNFINISHED",
    ]
    module = importlib.import_module("circleci_async.testing._state")
    for name in names:
        assert hasattr(module, name), name
    # The same objects as their new homes, not copies.
    assert _state.ApiError is _records.ApiError
    assert _state.page_of is _queries.page_of
    assert _state.SEED_EPOCH == _seeding.SEED_EPOCH
    assert issubclass(_state.FakeState, _seeding.Seeding)
    assert issubclass(_state.FakeState, _queries.Queries)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_attributes_assigned(tree: ast.AST) -> set[str]:
    """``self._x`` names a module assigns or defines (as methods) itself."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _private(node.name):
            own.add(node.name)
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and _private(target.attr)
            ):
                own.add(target.attr)
    return own


def _private_attributes_read(tree: ast.AST) -> set[str]:
    """Every ``something._x`` (not dunder) a module reads."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and _private(node.attr)
    }


def test_no_state_module_reads_private_names_of_another() -> None:
    """Seeding, queries and the facade use the stores only through public names: every
    ``._x`` one of them reads is a name that module defines itself."""
    for module in (_records, _stores, _seeding, _queries, _state):
        tree = ast.parse(Path(module.__file__ or "").read_text())
        foreign = _private_attributes_read(tree) - _private_attributes_assigned(tree)
        assert not foreign, f"{module.__name__} reads {sorted(foreign)}"


def test_no_other_module_of_the_fake_reads_the_stores_private_names() -> None:
    stores_tree = ast.parse(Path(_stores.__file__ or "").read_text())
    private = _private_attributes_assigned(stores_tree)
    assert {"_org_ids", "_pipelines", "_jobs_of", "_rng"} <= private  # the check sees them
    for path in sorted(TESTING.glob("*.py")):
        if path.name == "_stores.py":
            continue
        tree = ast.parse(path.read_text())
        read = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr in private
            # a module's own self._rng etc. is its own business; reading state's is not
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        }
        assert not read, f"{path.name} reads {sorted(read)} of the stores"


# -- pure pieces ---------------------------------------------------------------------------


def _pipelines(state: _state.FakeState, count: int) -> list[_records.PipelineRec]:
    state.add_project("gh/acme/widgets")
    state.seed_pipelines("gh/acme/widgets", count)
    return state.pipelines_of("gh/acme/widgets")


def test_listing_pages_newest_first_and_oldest_first_by_key() -> None:
    records = _pipelines(_state.FakeState(), 5)
    listing = _stores.Listing(records)
    newest, after = listing.page(None, 2, newest_first=True)
    assert [p.number for p in newest] == [5, 4] and after == records[3].seq
    rest, after = listing.page(after, 10, newest_first=True)
    assert [p.number for p in rest] == [3, 2, 1] and after is None
    oldest, after = listing.page(None, 3, newest_first=False)
    assert [p.number for p in oldest] == [1, 2, 3] and after == records[2].seq
    tail, after = listing.page(after, 3, newest_first=False)
    assert [p.number for p in tail] == [4, 5] and after is None


def test_page_tokens_belong_to_one_list() -> None:
    token = _queries.encode_page_token(42, "pipelines|gh/acme/widgets|")
    assert _queries.decode_page_token(token, "pipelines|gh/acme/widgets|") == 42
    for wrong in (("pipelines|gh/acme/widgets|dev", token), ("x", "not-a-token!")):
        with pytest.raises(_records.ApiError) as info:
            _queries.decode_page_token(wrong[1], wrong[0])
        assert info.value.status == 400


def test_seeding_is_deterministic_for_a_seed() -> None:
    def build(seed: int) -> list[dict[str, Any]]:
        state = _state.FakeState(seed=seed, clock=lambda: 1_800_000_000.0)
        state.add_project("gh/acme/widgets")
        state.seed_pipelines("gh/acme/widgets", 30, workflows_per_pipeline=2, jobs_per_workflow=2)
        pipeline = state.add_pipeline("gh/acme/widgets", "feature")
        workflow = state.add_workflow(pipeline.id, "late", "running")
        state.add_job(workflow.id, "j", "queued")
        return [
            state.list_pipelines("gh/acme/widgets", None, None, 50),
            state.list_workflows(pipeline.id, None, 5),
            state.list_jobs(workflow.id, None, 5),
        ]

    assert build(3) == build(3)
    assert build(3) != build(4)


def test_a_seeding_mistake_is_a_clear_error_not_an_http_answer() -> None:
    state = _state.FakeState()
    with pytest.raises(KeyError, match="add_project"):
        state.seed_pipelines("gh/acme/missing", 1)
    state.add_project("gh/acme/widgets")
    with pytest.raises(ValueError, match="pipeline state 'bogus'"):
        state.add_pipeline("gh/acme/widgets", state="bogus")
    with pytest.raises(KeyError, match="unknown workflow"):
        state.add_job("no-such-workflow")


# -- over HTTP -----------------------------------------------------------------------------


async def test_a_deleted_organization_can_be_created_again(http: aiohttp.ClientSession) -> None:
    """Deleting an organization forgets its slug too (the stores' ``remove_org``): creating it
    again, or adding a project under it, makes a new organization instead of failing."""
    async with FakeCircleCI(token=TOKEN) as fake:
        body = {"name": "phoenix", "vcs_type": "github"}
        async with http.post(f"{fake.url}/organization", json=body) as resp:
            assert resp.status == 201
            first = await resp.json()
        assert first["slug"] == "gh/phoenix"
        async with http.delete(f"{fake.url}/organization/gh/phoenix") as resp:
            assert resp.status == 202
        async with http.delete(f"{fake.url}/organization/{first['id']}") as resp:
            assert resp.status == 404
        async with http.post(f"{fake.url}/organization", json=body) as resp:
            assert resp.status == 201
            second = await resp.json()
        assert second["slug"] == "gh/phoenix" and second["id"] != first["id"]
        async with http.delete(f"{fake.url}/organization/gh/phoenix") as resp:
            assert resp.status == 202
        project = fake.add_project("gh/phoenix/app")
        async with http.get(f"{fake.url}/project/gh/phoenix/app") as resp:
            assert resp.status == 200
            answered = await resp.json()
        assert answered["organization_id"] not in (first["id"], second["id"])
        assert answered["id"] == project["id"]


async def test_branch_pages_follow_changes_made_between_walks(
    http: aiohttp.ClientSession,
) -> None:
    """The per-branch index is rebuilt after a change, so a new pipeline shows on that branch."""
    async with FakeCircleCI(token=TOKEN) as fake:
        fake.add_project("gh/acme/widgets")
        fake.seed_pipelines("gh/acme/widgets", 6, branches=("main", "dev"))
        url = f"{fake.url}/project/gh/acme/widgets/pipeline"
        async with http.get(url, params={"branch": "dev"}) as resp:
            before = [p["number"] for p in (await resp.json())["items"]]
        assert before == [6, 4, 2]
        fake.add_pipeline("gh/acme/widgets", "dev")
        async with http.get(url, params={"branch": "dev"}) as resp:
            after = [p["number"] for p in (await resp.json())["items"]]
        assert after == [7, 6, 4, 2]
