"""``client.users``, ``client.projects``, ``client.schedules`` and ``client.webhooks`` against the fake:
what is stored is what is read back, masked where CircleCI masks, and invalid input is the
API's 400 (or a local error before anything is sent)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from circleci_async import CircleCI
from circleci_async.errors import APIError, BadRequest, ConfigurationError, NotFound
from circleci_async.models import (
    UNSET,
    AdvancedSettings,
    CheckoutKeyType,
    Collaboration,
    DayOfWeek,
    Month,
    Timetable,
    VcsProvider,
    WebhookEvent,
)
from circleci_async.resources._base import query, segment
from circleci_async.testing import FakeCircleCI

SLUG = "gh/acme/widgets"


async def test_users(fake: FakeCircleCI, client: CircleCI) -> None:
    me = await client.users.me()
    assert me.login == fake.user["login"]
    assert await client.users.get(me.id) == me
    with pytest.raises(NotFound):
        await client.users.get("5034460f-c7c4-4c43-9457-de07e2029e7b")
    collaborations = await client.users.collaborations()
    assert collaborations == [
        Collaboration(
            id=collaborations[0].id,
            vcs_type="github",
            name="acme",
            avatar_url="https://avatars.example/acme.png",
            slug="gh/acme",
        )
    ]


async def test_project_lifecycle(fake: FakeCircleCI, client: CircleCI) -> None:
    project = await client.projects.get(SLUG)
    assert (
        project.vcs_info.provider is VcsProvider.GITHUB and project.organization_slug == "gh/acme"
    )
    gadgets = await client.projects.create("gh/acme", "gadgets")
    assert gadgets.slug == "gh/acme/gadgets" and gadgets.organization_id == project.organization_id
    with pytest.raises(APIError) as info:
        await client.projects.create(str(project.organization_id), "gadgets")
    assert info.value.status == 409
    await client.projects.delete("gh/acme/gadgets")
    with pytest.raises(NotFound):
        await client.projects.get("gh/acme/gadgets")
    settings = await client.projects.create_by_slug("bb/team/repo")
    assert settings.advanced is not None and settings.advanced.set_github_status is True
    assert (await client.projects.get("bb/team/repo")).vcs_info.provider is VcsProvider.BITBUCKET
    with pytest.raises(APIError) as info:
        await client.projects.create_by_slug("circleci/ORG/PROJ")
    assert info.value.status == 405
    with pytest.raises(ConfigurationError, match="three-part"):
        await client.projects.settings("gh/acme")
    with pytest.raises(ConfigurationError, match="slug"):
        await client.projects.get("gh/../admin")


async def test_settings_change_only_what_is_given(client: CircleCI) -> None:
    before = await client.projects.settings(SLUG)
    after = await client.projects.update_settings(
        SLUG, AdvancedSettings(build_fork_prs=True, pr_only_branch_overrides=["main", "release/*"])
    )
    assert after.advanced is not None and before.advanced is not None
    assert after.advanced.build_fork_prs is True
    assert after.advanced.pr_only_branch_overrides == ["main", "release/*"]
    assert after.advanced.oss == before.advanced.oss
    assert await client.projects.settings(SLUG) == after


async def test_environment_variables_are_masked(client: CircleCI) -> None:
    created = await client.projects.create_env_var(SLUG, "API_KEY", "super-secret-1234")
    assert created.value == "xxxx1234" and created.created_at is not None
    assert [v.name for v in await client.projects.env_vars(SLUG).collect()] == ["API_KEY"]
    assert (await client.projects.get_env_var(SLUG, "API_KEY")).value == "xxxx1234"
    await client.projects.delete_env_var(SLUG, "API_KEY")
    with pytest.raises(NotFound):
        await client.projects.get_env_var(SLUG, "API_KEY")


async def test_checkout_keys_by_either_fingerprint(fake: FakeCircleCI, client: CircleCI) -> None:
    first = await client.projects.create_checkout_key(SLUG, "deploy-key")
    second = await client.projects.create_checkout_key(SLUG, "user-key")
    assert first.preferred and not second.preferred
    assert (first.type, second.type) == (
        CheckoutKeyType.DEPLOY_KEY,
        CheckoutKeyType.GITHUB_USER_KEY,
    )
    md5 = await client.projects.checkout_keys(SLUG).collect()
    sha = await client.projects.checkout_keys(SLUG, digest="sha256").collect()
    assert [k.fingerprint for k in md5] == [first.fingerprint, second.fingerprint]
    assert all(k.fingerprint.startswith("SHA256:") for k in sha)
    # sha256 fingerprints are base64 (``/`` and ``+`` included): sent percent-encoded.
    fetched = await client.projects.get_checkout_key(SLUG, sha[0].fingerprint)
    assert fetched.fingerprint == first.fingerprint
    await client.projects.delete_checkout_key(SLUG, sha[1].fingerprint)
    assert len(await client.projects.checkout_keys(SLUG).collect()) == 1
    with pytest.raises(BadRequest):
        await client.projects.create_checkout_key(SLUG, "ssh-key")


def test_path_segments_and_query_values() -> None:
    assert segment("SHA256:ab/cd+ef=") == "SHA256%3Aab%2Fcd%2Bef%3D"
    assert segment(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    moment = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert query({"a": True, "b": None, "c": [1, "x"], "d": moment, "e": [], "f": UNSET}) == {
        "a": "true",
        "c": ["1", "x"],
        "d": "2026-01-02T03:04:05Z",
    }
    assert query({"b": None}) is None
    with pytest.raises(ConfigurationError, match="cannot send"):
        query({"x": object()})


async def test_schedules(client: CircleCI) -> None:
    timetable = Timetable(
        per_hour=2, hours_of_day=[1, 13], days_of_week=[DayOfWeek.MON], months=[Month.JAN]
    )
    created = await client.schedules.create(
        SLUG,
        name="nightly",
        timetable=timetable,
        parameters={"branch": "main"},
        description="every night",
    )
    assert created.timetable == timetable and created.description == "every night"
    assert created.actor.login == "fake-user"
    updated = await client.schedules.update(
        created.id, description=None, attribution_actor="system"
    )
    assert updated.description is None and updated.name == "nightly"
    assert updated.actor.login == "system-actor"
    assert [s.id for s in await client.schedules.list(SLUG).collect()] == [created.id]
    await client.schedules.delete(created.id)
    with pytest.raises(NotFound):
        await client.schedules.get(created.id)
    with pytest.raises(BadRequest, match="days-of-week or days-of-month"):
        await client.schedules.create(
            SLUG, name="x", timetable=Timetable(per_hour=1, hours_of_day=[1]), parameters={}
        )


async def test_webhooks(client: CircleCI) -> None:
    project = await client.projects.get(SLUG)
    hook = await client.webhooks.create(
        name="chat",
        url="https://chat.example/hook",
        events=[WebhookEvent.WORKFLOW_COMPLETED, "job-completed"],
        scope_id=project.id,
        signing_secret="hunter2hunter2",
    )
    assert hook.signing_secret == "xxxxter2" and hook.verify_tls is True
    assert hook.scope.id == project.id and hook.events == ["workflow-completed", "job-completed"]
    updated = await client.webhooks.update(hook.id, url="https://chat.example/v2", verify_tls=False)
    assert (updated.url, updated.verify_tls, updated.name) == (
        "https://chat.example/v2",
        False,
        "chat",
    )
    assert updated.updated_at >= hook.updated_at
    assert [h.id for h in await client.webhooks.list(project.id).collect()] == [hook.id]
    await client.webhooks.delete(hook.id)
    assert await client.webhooks.list(project.id).collect() == []
    with pytest.raises(BadRequest):
        await client.webhooks.create(
            name="x", url="https://x", events=["nope"], scope_id=project.id, signing_secret="s"
        )
