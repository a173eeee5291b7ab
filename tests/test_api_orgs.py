"""Organization-level namespaces against the fake: contexts, organizations and groups, usage
exports, OIDC claims and policies (whose errors are ``{"error": ...}``), deploys, pipeline
definitions and triggers, Insights over simulated runs, and the runner API on its own host."""

from __future__ import annotations

import datetime as dt

import pytest

from circleci_async import CircleCI
from circleci_async.errors import BadRequest, ConfigurationError, Conflict, NotFound
from circleci_async.models import (
    CheckoutSource,
    ConfigSource,
    ContextEnvironmentVariable,
    RepoRef,
    RestrictionType,
    TriggerEventSource,
    TriggerWebhook,
    UsageExportState,
    WorkflowStatus,
)
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan

SLUG = "gh/acme/widgets"
UTC = dt.timezone.utc


async def test_contexts(fake: FakeCircleCI, client: CircleCI) -> None:
    org_id = fake.org_id("gh/acme")
    context = await client.contexts.create("deploy", owner_slug="gh/acme")
    assert [c.id for c in await client.contexts.list(owner_id=org_id).collect()] == [context.id]
    with pytest.raises(ConfigurationError, match="exactly one"):
        client.contexts.list()
    first = await client.contexts.set_env_var(context.id, "TOKEN", "a")
    fake.advance(5)
    second = await client.contexts.set_env_var(context.id, "TOKEN", "b")
    assert isinstance(first, ContextEnvironmentVariable) and isinstance(
        second, ContextEnvironmentVariable
    )
    assert second.created_at == first.created_at and second.updated_at > first.updated_at
    assert [v.variable for v in await client.contexts.env_vars(context.id).collect()] == ["TOKEN"]
    project = await client.projects.get(SLUG)
    restriction = await client.contexts.create_restriction(
        context.id, RestrictionType.PROJECT, str(project.id)
    )
    assert restriction.project_id == project.id and restriction.name == "widgets"
    with pytest.raises(Conflict):
        await client.contexts.create_restriction(context.id, "project", str(project.id))
    [listed] = await client.contexts.restrictions(context.id).collect()
    assert listed.context_id == context.id
    await client.contexts.delete_restriction(context.id, restriction.id)  # type: ignore[arg-type]
    await client.contexts.delete(context.id)
    with pytest.raises(NotFound):
        await client.contexts.get(context.id)


async def test_organizations_and_groups(fake: FakeCircleCI, client: CircleCI) -> None:
    org = await client.organizations.create("newco", "circleci")
    assert org.slug == f"circleci/{org.id}" and org.vcs_type == "circleci"
    project = await client.projects.create(org.id, "api")
    assert project.slug == f"circleci/{org.id}/api"
    for name in ("devs", "ops", "sre"):
        await client.organizations.create_group(org.id, name)
    with pytest.raises(Conflict):
        await client.organizations.create_group(org.id, "ops")
    pages = [page async for page in client.organizations.groups(org.id, limit=2).pages()]
    assert [len(p.items) for p in pages] == [2, 1] and pages[0].raw["total_count"] == 3
    group = pages[0].items[0]
    assert await client.organizations.get_group(org.id, group.id) == group  # type: ignore[arg-type]
    await client.organizations.delete_group(org.id, group.id)  # type: ignore[arg-type]
    entry = await client.organizations.allow_url_orbs(
        org.id, name="corp", prefix="https://orbs.corp/"
    )
    [listed] = await client.organizations.url_orb_allow_list(org.slug).collect()
    assert listed.id == entry.id and listed.auth == "none"
    await client.organizations.remove_url_orb_entry(org.id, entry.id)
    await client.organizations.delete(org.slug)
    with pytest.raises(NotFound):
        await client.projects.get(project.slug)


async def test_usage_export_completes_as_time_passes(fake: FakeCircleCI, client: CircleCI) -> None:
    org_id = fake.org_id("gh/acme")
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    job = await client.usage.create_export(org_id, start=start, end=start + dt.timedelta(days=30))
    assert job.state is UsageExportState.CREATED and job.download_urls == []
    status = await client.usage.get_export(org_id, job.usage_export_job_id)
    assert status.state is UsageExportState.PROCESSING
    fake.advance(3)
    status = await client.usage.get_export(org_id, job.usage_export_job_id)
    assert status.state is UsageExportState.COMPLETED and status.download_urls
    with pytest.raises(BadRequest, match="32 days"):
        await client.usage.create_export(org_id, start=start, end=start + dt.timedelta(days=40))


async def test_oidc_claims_and_error_bodies(fake: FakeCircleCI, client: CircleCI) -> None:
    org_id = fake.org_id("gh/acme")
    project = await client.projects.get(SLUG)
    claims = await client.oidc.update_org_claims(org_id, audience=["sts.amazonaws.com"], ttl="2h")
    assert claims.audience == ["sts.amazonaws.com"] and claims.ttl == "2h"
    assert claims.ttl_updated_at is not None and claims.project_id is None
    cleared = await client.oidc.delete_org_claims(org_id, ["ttl"])
    assert cleared.ttl is None and cleared.audience == ["sts.amazonaws.com"]
    with pytest.raises(BadRequest) as info:
        await client.oidc.update_project_claims(org_id, project.id, ttl="forever")
    assert info.value.message == "ttl must be a duration such as 1h or 30m"  # from {"error": ...}
    assert (await client.oidc.project_claims(org_id, project.id)).project_id == project.id
    with pytest.raises(ConfigurationError, match="audience"):
        await client.oidc.delete_project_claims(org_id, project.id, ["iss"])


async def test_policies_decide_and_log(fake: FakeCircleCI, client: CircleCI) -> None:
    owner = fake.org_id("gh/acme")
    diff = await client.policies.replace_bundle(owner, policies={"a": "package org\n"}, dry=True)
    assert diff.created == ["a"] and await client.policies.bundle(owner) == {}
    await client.policies.replace_bundle(
        owner, policies={"a": "package org\n", "b": "package org\n"}
    )
    bundle = await client.policies.bundle(owner)
    assert sorted(bundle) == ["a", "b"] and bundle["a"][0].content == "package org\n"
    assert (await client.policies.policy(owner, "b")).name == "b"
    with pytest.raises(NotFound, match="policy not found"):
        await client.policies.policy(owner, "zzz")
    assert (await client.policies.settings(owner)).enabled is False
    assert (await client.policies.update_settings(owner, enabled=True)).enabled is True
    passed = await client.policies.decide(owner, input="version: 2.1\n")
    failed = await client.policies.decide(owner, input="image: forbidden/thing\n")
    assert passed.status == "PASS" and failed.status == "HARD_FAIL"
    assert [v.rule for v in failed.hard_failures or []] == ["a", "b"]
    logs = await client.policies.decision_logs(owner)
    assert [log.decision.status for log in logs if log.decision] == ["HARD_FAIL", "PASS"]
    assert [log.id for log in await client.policies.decision_logs(owner, offset=1)] == [logs[1].id]
    assert len(await client.policies.decision_logs(owner, status="pass")) == 1
    assert logs[0].id is not None
    assert sorted(await client.policies.decision_policy_bundle(owner, logs[0].id)) == ["a", "b"]
    assert (await client.policies.decision_log(owner, logs[0].id)).policies is not None


async def test_deploys_and_rollback(fake: FakeCircleCI, client: CircleCI) -> None:
    org_id = fake.org_id("gh/acme")
    project = await client.projects.get(SLUG)
    staging = fake.add_environment(org_id, "staging")
    production = fake.add_environment(org_id, "production", labels={"tier": "1"})
    component = fake.add_component(org_id, str(project.id), "api")
    fake.add_component_version(component["id"], production["id"], "v1")
    fake.add_component_version(component["id"], production["id"], "v2")
    fake.add_component_version(component["id"], staging["id"], "v3")
    environments = await client.deploys.environments(org_id, page_size=1).collect()
    assert [e.name for e in environments] == ["staging", "production"]
    assert environments[1].labels is not None and environments[1].labels[0].key == "tier"
    assert (await client.deploys.component(component["id"])).release_count == 3
    versions = await client.deploys.component_versions(
        component["id"], environment_id=production["id"]
    ).collect()
    assert [(v.name, v.is_live) for v in versions] == [("v1", False), ("v2", True)]
    assert [
        c.name for c in await client.deploys.components(org_id, project_id=project.id).collect()
    ] == ["api"]
    result = await client.deploys.rollback(
        project.id,
        component_name="api",
        environment_name="production",
        current_version="v2",
        target_version="v1",
    )
    assert result.rollback_type == "PIPELINE" and result.id is not None
    with pytest.raises(Conflict):
        await client.deploys.rollback(
            project.id,
            component_name="api",
            environment_name="production",
            current_version="v2",
            target_version="v2",
        )


async def test_pipeline_definitions_and_triggers(client: CircleCI) -> None:
    project_id = (await client.projects.get(SLUG)).id
    definition = await client.pipeline_definitions.create(
        project_id,
        name="main",
        config_source=ConfigSource(
            provider="github_app", repo=RepoRef(external_id="42"), file_path=".circleci/config.yml"
        ),
        checkout_source=CheckoutSource(provider="github_app", repo=RepoRef(external_id="42")),
    )
    assert definition.config_source is not None and definition.config_source.repo is not None
    assert definition.config_source.repo.full_name == "acme/widgets"
    assert definition.id is not None
    updated = await client.pipeline_definitions.update(
        project_id, definition.id, config_file_path="ci.yml"
    )
    assert updated.config_source is not None and updated.config_source.file_path == "ci.yml"
    trigger = await client.triggers.create(
        project_id,
        definition.id,
        event_source=TriggerEventSource(
            provider="webhook", webhook=TriggerWebhook(sender="deploy-bot")
        ),
        event_name="deploy",
    )
    assert trigger.event_source is not None and trigger.event_source.webhook is not None
    assert trigger.event_source.webhook.url and trigger.event_source.webhook.sender == "deploy-bot"
    assert trigger.id is not None
    disabled = await client.triggers.update(
        project_id, trigger.id, disabled=True, webhook_sender="bot-2"
    )
    assert disabled.disabled is True and disabled.event_source.webhook.sender == "bot-2"  # type: ignore[union-attr]
    assert [t.id for t in await client.triggers.list(project_id, definition.id).collect()] == [
        trigger.id
    ]
    await client.triggers.delete(project_id, trigger.id)
    await client.pipeline_definitions.delete(project_id, definition.id)
    assert await client.pipeline_definitions.list(project_id).collect() == []


async def test_insights_aggregate_finished_runs(fake: FakeCircleCI, client: CircleCI) -> None:
    ok = WorkflowPlan(
        "ci",
        (JobPlan("build", seconds=50), JobPlan("test", requires=("build",), seconds=70, tests=2)),
    )
    bad = WorkflowPlan(
        "ci",
        (
            JobPlan("build", seconds=50),
            JobPlan("test", requires=("build",), outcome="failed", tests=2),
        ),
    )
    for plan, branch in [(ok, "main"), (bad, "main"), (ok, "main"), (ok, "dev")]:
        fake.set_plan(SLUG, plan)
        fake.trigger_pipeline(SLUG, branch)
        fake.settle()
    [metrics] = await client.insights.workflow_metrics(SLUG).collect()  # default branch only
    assert (metrics.name, metrics.metrics.total_runs, metrics.metrics.failed_runs) == ("ci", 3, 1)
    assert metrics.metrics.success_rate == pytest.approx(2 / 3)
    assert metrics.metrics.total_recoveries == 1 and metrics.metrics.mttr is not None
    everywhere = await client.insights.workflow_metrics(SLUG, all_branches=True).collect()
    assert everywhere[0].metrics.total_runs == 4
    runs = await client.insights.workflow_runs(SLUG, "ci").collect()
    assert [r.status for r in runs] == [
        WorkflowStatus.SUCCESS,
        WorkflowStatus.FAILED,
        WorkflowStatus.SUCCESS,
    ]
    assert runs[0].credits_used == 30 and runs[0].duration >= 120  # type: ignore[operator]
    jobs = await client.insights.job_metrics(SLUG, "ci", job_name="test").collect()
    assert jobs[0].metrics.failed_runs == 1 and jobs[0].metrics.total_runs == 3
    summary = await client.insights.workflow_summary(SLUG, "ci")
    assert summary.metrics.completed_runs == 3 and summary.workflow_names == ["ci"]
    tests = await client.insights.test_metrics(SLUG, "ci")
    assert tests.total_test_runs == 6 and tests.most_failed_tests[0].failed_runs == 1
    assert (await client.insights.branches(SLUG)).branches == ["dev", "main"]
    org = await client.insights.org_summary("gh/acme")
    assert org.org_data.metrics.total_runs == 4 and org.all_projects == ["widgets"]
    page = await client.insights.project_summary(SLUG, branches=["main"])
    assert page.project_data is not None and page.project_data.metrics.total_runs == 3
    assert page.all_branches == ["main"]
    series = await client.insights.job_timeseries(SLUG, "ci").collect()
    assert {s.name for s in series} == {"build", "test"}
    assert (await client.insights.flaky_tests(SLUG)).flaky_tests == []
    with pytest.raises(ConfigurationError, match="not both"):
        client.insights.workflow_metrics(SLUG, branch="main", all_branches=True)
    with pytest.raises(ConfigurationError, match="start_date"):
        client.insights.workflow_runs(SLUG, "ci", end_date=dt.datetime.now(UTC))


async def test_runner_api_follows_the_simulated_jobs(fake: FakeCircleCI, client: CircleCI) -> None:
    created = await client.runner.create_resource_class("acme/linux", description="Linux")
    assert created.resource_class == "acme/linux"
    token = await client.runner.create_token("acme/linux", "box-1")
    assert token.token and len(token.token) == 80
    [listed] = await client.runner.tokens("acme/linux").collect()
    assert listed.id == token.id and listed.token is None
    fake.add_runner("acme/linux", "box-1", hostname="box-1.lan")
    [runner] = await client.runner.runners(namespace="acme").collect()
    assert runner.hostname == "box-1.lan" and runner.last_used is not None
    with pytest.raises(ConfigurationError, match="resource_class or namespace"):
        client.runner.runners()

    fake.set_plan(
        SLUG, WorkflowPlan("ci", (JobPlan("on-runner", resource_class="acme/linux", seconds=30),))
    )
    fake.trigger_pipeline(SLUG)
    fake.advance(0)
    assert (await client.runner.unclaimed_task_count("acme/linux")).unclaimed_task_count == 1
    fake.advance(5)
    assert (await client.runner.unclaimed_task_count("acme/linux")).unclaimed_task_count == 0
    assert (await client.runner.running_task_count("acme/linux")).running_runner_tasks == 1
    fake.settle()
    assert (await client.runner.running_task_count("acme/linux")).running_runner_tasks == 0

    with pytest.raises(BadRequest, match="tokens"):
        await client.runner.delete_resource_class(created.id)
    await client.runner.force_delete_resource_class(created.id)
    assert await client.runner.resource_classes(namespace="acme").collect() == []
    assert fake.requests[-1].path == "/api/v3/runner/resource"
