"""A populated fake CircleCI ("the world") and one call per API operation.

:func:`build_world` fills a fresh :class:`FakeCircleCI` with a finished pipeline, a workflow on
hold for approval, a running job, a context, a schedule, a webhook, policies, deploys, runner
resource classes, ... through seeding and the client itself. :data:`CASES` then says, for every
``operationId`` of both specs, how the client performs it and which method, path, query and
body the server must receive. The request-shape and fake-conformance tests run each case on
its own world; the loopback conformance test reuses the calls with made-up ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from circleci_async import AsyncPaginator, CircleCI
from circleci_async.models import (
    AdvancedSettings,
    CheckoutSource,
    ConfigSource,
    DayOfWeek,
    RepoRef,
    Timetable,
    TriggerEventSource,
)
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan

SLUG = "gh/acme/widgets"
ORG = "gh/acme"
BUILD_AND_TEST = WorkflowPlan(
    "build-and-test",
    (JobPlan("build", seconds=20), JobPlan("test", requires=("build",), seconds=40, tests=3)),
)
DEPLOY = WorkflowPlan(
    "deploy",
    (
        JobPlan("hold", type="approval"),
        JobPlan("ship", requires=("hold",), resource_class="acme/linux"),
    ),
)
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
END = dt.datetime(2026, 1, 15, tzinfo=dt.timezone.utc)


@attrs.define
class World:
    """Ids of everything :func:`build_world` made (strings, as they appear in paths)."""

    user_id: str = ""
    project_id: str = ""
    org_id: str = ""
    pipeline_id: str = ""
    pipeline_number: int = 0
    workflow_id: str = ""
    hold_workflow_id: str = ""
    approval_id: str = ""
    job_id: str = ""
    job_number: int = 0
    test_job_number: int = 0
    running_job_number: int = 0
    continuation_key: str = ""
    context_id: str = ""
    context_var: str = "DEPLOY_KEY"
    restriction_id: str = ""
    schedule_id: str = ""
    webhook_id: str = ""
    fingerprint: str = ""
    env_var: str = "API_TOKEN"
    group_id: str = ""
    allow_entry_id: str = ""
    export_id: str = ""
    definition_id: str = ""
    trigger_id: str = ""
    environment_id: str = ""
    component_id: str = ""
    policy_name: str = "no-forbidden"
    decision_id: str = ""
    resource_class: str = "acme/linux"
    #: A resource class without tokens (deletable without force).
    resource_class_id: str = ""
    token_id: str = ""


def fake_world() -> World:
    """Made-up ids, for tests whose server ignores them."""
    ids = iter(str(uuid.UUID(int=n, version=4)) for n in range(1, 100))
    world = World()
    for field in attrs.fields(World):
        if field.type == "str" and not getattr(world, field.name):
            setattr(world, field.name, next(ids))
    world.pipeline_number = world.job_number = world.test_job_number = 7
    world.running_job_number = 8
    world.fingerprint = "c9:0b:1c:4f:1a:aa:3b:1c:5c:1e:0a:7f:22:9c:6d:01"
    return world


async def build_world(fake: FakeCircleCI, cci: CircleCI) -> World:
    w = World()
    fake.add_project(SLUG)
    fake.set_plan(SLUG, BUILD_AND_TEST, DEPLOY)
    fake.add_resource_class(w.resource_class, "Linux boxes")
    w.resource_class_id = fake.add_resource_class("acme/spare")["id"]
    fake.add_runner(w.resource_class, "runner-1")
    done = fake.trigger_pipeline(SLUG, "main", parameters={"deploy": True})
    fake.settle()
    w.pipeline_id, w.pipeline_number = done["id"], done["number"]
    w.continuation_key = fake.continuation_key(w.pipeline_id)
    workflows = await cci.pipelines.workflows(w.pipeline_id).collect()
    built = next(wf for wf in workflows if wf.name == "build-and-test")
    held = next(wf for wf in workflows if wf.name == "deploy")
    w.workflow_id, w.hold_workflow_id = str(built.id), str(held.id)
    jobs = await cci.workflows.jobs(built.id).collect()
    w.job_id = str(jobs[0].id)
    w.job_number = jobs[0].job_number or 0
    w.test_job_number = jobs[1].job_number or 0
    hold = (await cci.workflows.jobs(held.id).collect())[0]
    w.approval_id = str(hold.approval_request_id)
    fake.trigger_pipeline(SLUG, "dev")
    fake.advance(0)
    running = (await cci.pipelines.list_for_project(SLUG, branch="dev").collect())[0]
    running_workflow = next(
        wf
        for wf in await cci.pipelines.workflows(running.id).collect()
        if wf.name == "build-and-test"
    )
    first = (await cci.workflows.jobs(running_workflow.id).collect())[0]
    w.running_job_number = first.job_number or 0

    w.user_id = str((await cci.users.me()).id)
    project = await cci.projects.get(SLUG)
    w.project_id, w.org_id = str(project.id), str(project.organization_id)

    w.context_id = fake.add_context("deploy-secrets", owner_slug=ORG)["id"]
    await cci.contexts.set_env_var(w.context_id, w.context_var, "s3cr3t")
    restriction = await cci.contexts.create_restriction(w.context_id, "project", w.project_id)
    w.restriction_id = str(restriction.id)
    schedule = await cci.schedules.create(
        SLUG,
        name="nightly",
        timetable=Timetable(per_hour=1, hours_of_day=[2], days_of_week=[DayOfWeek.SUN]),
        parameters={"branch": "main"},
    )
    w.schedule_id = str(schedule.id)
    webhook = await cci.webhooks.create(
        name="chat",
        url="https://chat.example/hook",
        events=["workflow-completed"],
        scope_id=w.project_id,
        signing_secret="hunter2hunter2",
    )
    w.webhook_id = str(webhook.id)
    w.fingerprint = (await cci.projects.create_checkout_key(SLUG, "deploy-key")).fingerprint
    await cci.projects.create_env_var(SLUG, w.env_var, "abcdef123456")
    w.group_id = str((await cci.organizations.create_group(w.org_id, "devs")).id)
    entry = await cci.organizations.allow_url_orbs(
        ORG, name="public orbs", prefix="https://orbs.example/"
    )
    w.allow_entry_id = entry.id
    export = await cci.usage.create_export(w.org_id, start=START, end=END)
    w.export_id = str(export.usage_export_job_id)
    definition = await cci.pipeline_definitions.create(
        w.project_id,
        name="main",
        config_source=ConfigSource(
            provider="github_app", repo=RepoRef(external_id="42"), file_path=".circleci/config.yml"
        ),
        checkout_source=CheckoutSource(provider="github_app", repo=RepoRef(external_id="42")),
    )
    w.definition_id = str(definition.id)
    trigger = await cci.triggers.create(
        w.project_id,
        w.definition_id,
        event_source=TriggerEventSource(provider="github_app", repo=RepoRef(external_id="42")),
        event_preset="all-pushes",
    )
    w.trigger_id = str(trigger.id)
    w.environment_id = fake.add_environment(w.org_id, "production", labels={"tier": "1"})["id"]
    w.component_id = fake.add_component(w.org_id, w.project_id, "api")["id"]
    fake.add_component_version(w.component_id, w.environment_id, "v1")
    fake.add_component_version(w.component_id, w.environment_id, "v2")
    await cci.policies.replace_bundle(
        w.org_id, policies={w.policy_name: 'package org\npolicy_name["no-forbidden"]\n'}
    )
    await cci.policies.decide(w.org_id, input="version: 2.1\n")
    w.decision_id = str((await cci.policies.decision_logs(w.org_id))[0].id)
    w.token_id = str((await cci.runner.create_token(w.resource_class, "box-1")).id)
    fake.clear_requests()
    return w


Call = Callable[[CircleCI, World], Any]


@attrs.frozen
class Case:
    """One operation: how to call it, and what the server must receive (the path relative to
    ``/api/v2`` or, for the runner, ``/api/v3``)."""

    call: Call
    path: Callable[[World], str]
    query: Callable[[World], dict[str, Any]] = lambda w: {}
    body: Callable[[World], Any] = lambda w: None
    prepare: Callable[[FakeCircleCI, World], None] | None = None


async def first_page(result: Any) -> Any:
    """Await a call's result; a paginator's is its first page of items."""
    if isinstance(result, Awaitable):
        result = await result
    if isinstance(result, AsyncPaginator):
        async for page in result.pages():
            return page.items
        return []
    return result


def _serve_artifacts(fake: FakeCircleCI, w: World) -> None:
    """Artifact listings belong to the downloader's part of the fake; serve one here."""
    import json

    payload = json.dumps(
        {
            "items": [{"path": "report.html", "node_index": 0, "url": "https://output.example/r"}],
            "next_page_token": None,
        }
    ).encode()
    fake.add_route(
        r"/project/(?P<slug>[^/]+/[^/]+/[^/]+)/(?P<n>\d+)/artifacts",
        {"GET": lambda r, m, b: (200, payload)},
    )


def _p(template: str) -> Callable[[World], str]:
    return lambda w: template.format(w=w, slug=SLUG, org=ORG)


CASES: dict[str, Case] = {
    # -- users
    "getCurrentUser": Case(lambda c, w: c.users.me(), _p("/me")),
    "getCollaborations": Case(lambda c, w: c.users.collaborations(), _p("/me/collaborations")),
    "getUser": Case(lambda c, w: c.users.get(w.user_id), _p("/user/{w.user_id}")),
    # -- pipelines
    "listPipelines": Case(
        lambda c, w: c.pipelines.list(org_slug=ORG, mine=True),
        _p("/pipeline"),
        lambda w: {"org-slug": ORG, "mine": "true"},
    ),
    "listPipelinesForProject": Case(
        lambda c, w: c.pipelines.list_for_project(SLUG, branch="main"),
        _p("/project/{slug}/pipeline"),
        lambda w: {"branch": "main"},
    ),
    "listMyPipelines": Case(
        lambda c, w: c.pipelines.list_mine(SLUG), _p("/project/{slug}/pipeline/mine")
    ),
    "getPipelineById": Case(
        lambda c, w: c.pipelines.get(w.pipeline_id), _p("/pipeline/{w.pipeline_id}")
    ),
    "getPipelineByNumber": Case(
        lambda c, w: c.pipelines.get_by_number(SLUG, w.pipeline_number),
        _p("/project/{slug}/pipeline/{w.pipeline_number}"),
    ),
    "getPipelineConfigById": Case(
        lambda c, w: c.pipelines.config(w.pipeline_id), _p("/pipeline/{w.pipeline_id}/config")
    ),
    "getPipelineValuesById": Case(
        lambda c, w: c.pipelines.values(w.pipeline_id), _p("/pipeline/{w.pipeline_id}/values")
    ),
    "listWorkflowsByPipelineId": Case(
        lambda c, w: c.pipelines.workflows(w.pipeline_id), _p("/pipeline/{w.pipeline_id}/workflow")
    ),
    "triggerPipeline": Case(
        lambda c, w: c.pipelines.trigger(
            SLUG, branch="feature/x", parameters={"deploy": True, "n": 3}
        ),
        _p("/project/{slug}/pipeline"),
        body=lambda w: {"branch": "feature/x", "parameters": {"deploy": True, "n": 3}},
    ),
    "triggerPipelineRun": Case(
        lambda c, w: c.pipelines.run(
            SLUG,
            definition_id=w.definition_id,
            config_branch="main",
            checkout_branch="main",
            parameters={"env": "qa"},
        ),
        _p("/project/{slug}/pipeline/run"),
        body=lambda w: {
            "definition_id": w.definition_id,
            "config": {"branch": "main"},
            "checkout": {"branch": "main"},
            "parameters": {"env": "qa"},
        },
    ),
    "continuePipeline": Case(
        lambda c, w: c.pipelines.continue_(
            w.continuation_key, "version: 2.1\n", parameters={"a": 1}
        ),
        _p("/pipeline/continue"),
        body=lambda w: {
            "continuation-key": w.continuation_key,
            "configuration": "version: 2.1\n",
            "parameters": {"a": 1},
        },
    ),
    # -- workflows
    "getWorkflowById": Case(
        lambda c, w: c.workflows.get(w.workflow_id), _p("/workflow/{w.workflow_id}")
    ),
    "listWorkflowJobs": Case(
        lambda c, w: c.workflows.jobs(w.workflow_id), _p("/workflow/{w.workflow_id}/job")
    ),
    "cancelWorkflow": Case(
        lambda c, w: c.workflows.cancel(w.hold_workflow_id),
        _p("/workflow/{w.hold_workflow_id}/cancel"),
    ),
    "approvePendingApprovalJobById": Case(
        lambda c, w: c.workflows.approve(w.hold_workflow_id, w.approval_id),
        _p("/workflow/{w.hold_workflow_id}/approve/{w.approval_id}"),
    ),
    "rerunWorkflow": Case(
        lambda c, w: c.workflows.rerun(
            w.workflow_id, jobs=[w.job_id], from_failed=False, enable_ssh=False
        ),
        _p("/workflow/{w.workflow_id}/rerun"),
        body=lambda w: {"jobs": [w.job_id], "from_failed": False, "enable_ssh": False},
    ),
    # -- jobs
    "getJobDetails": Case(
        lambda c, w: c.jobs.get(SLUG, w.job_number), _p("/project/{slug}/job/{w.job_number}")
    ),
    "cancelJobByJobNumber": Case(
        lambda c, w: c.jobs.cancel_by_number(SLUG, w.running_job_number),
        _p("/project/{slug}/job/{w.running_job_number}/cancel"),
    ),
    "cancelJobByJobID": Case(
        lambda c, w: c.jobs.cancel(w.approval_id), _p("/jobs/{w.approval_id}/cancel")
    ),
    "getJobArtifacts": Case(
        lambda c, w: c.jobs.artifacts(SLUG, w.job_number),
        _p("/project/{slug}/{w.job_number}/artifacts"),
        prepare=_serve_artifacts,
    ),
    "getTests": Case(
        lambda c, w: c.jobs.tests(SLUG, w.test_job_number),
        _p("/project/{slug}/{w.test_job_number}/tests"),
    ),
    # -- projects
    "getProjectBySlug": Case(lambda c, w: c.projects.get(SLUG), _p("/project/{slug}")),
    "deleteProjectBySlug": Case(lambda c, w: c.projects.delete(SLUG), _p("/project/{slug}")),
    "createProject": Case(
        lambda c, w: c.projects.create(ORG, "gadgets"),
        _p("/organization/{org}/project"),
        body=lambda w: {"name": "gadgets"},
    ),
    "createProject1": Case(
        lambda c, w: c.projects.create_by_slug("gh/acme/gizmo"), _p("/project/gh/acme/gizmo")
    ),
    "getProjectSettings": Case(
        lambda c, w: c.projects.settings(SLUG), _p("/project/{slug}/settings")
    ),
    "patchProjectSettings": Case(
        lambda c, w: c.projects.update_settings(
            SLUG,
            AdvancedSettings(autocancel_builds=True, pr_only_branch_overrides=["main", "release"]),
        ),
        _p("/project/{slug}/settings"),
        body=lambda w: {
            "advanced": {"autocancel_builds": True, "pr_only_branch_overrides": ["main", "release"]}
        },
    ),
    "listCheckoutKeys": Case(
        lambda c, w: c.projects.checkout_keys(SLUG, digest="sha256"),
        _p("/project/{slug}/checkout-key"),
        lambda w: {"digest": "sha256"},
    ),
    "createCheckoutKey": Case(
        lambda c, w: c.projects.create_checkout_key(SLUG, "user-key"),
        _p("/project/{slug}/checkout-key"),
        body=lambda w: {"type": "user-key"},
    ),
    "getCheckoutKey": Case(
        lambda c, w: c.projects.get_checkout_key(SLUG, w.fingerprint),
        _p("/project/{slug}/checkout-key/{w.fingerprint}"),
    ),
    "deleteCheckoutKey": Case(
        lambda c, w: c.projects.delete_checkout_key(SLUG, w.fingerprint),
        _p("/project/{slug}/checkout-key/{w.fingerprint}"),
    ),
    "listEnvVars": Case(lambda c, w: c.projects.env_vars(SLUG), _p("/project/{slug}/envvar")),
    "createEnvVar": Case(
        lambda c, w: c.projects.create_env_var(SLUG, "NEW_VAR", "value-1234"),
        _p("/project/{slug}/envvar"),
        body=lambda w: {"name": "NEW_VAR", "value": "value-1234"},
    ),
    "getEnvVar": Case(
        lambda c, w: c.projects.get_env_var(SLUG, w.env_var),
        _p("/project/{slug}/envvar/{w.env_var}"),
    ),
    "deleteEnvVar": Case(
        lambda c, w: c.projects.delete_env_var(SLUG, w.env_var),
        _p("/project/{slug}/envvar/{w.env_var}"),
    ),
    # -- schedules
    "listSchedulesForProject": Case(
        lambda c, w: c.schedules.list(SLUG), _p("/project/{slug}/schedule")
    ),
    "createSchedule": Case(
        lambda c, w: c.schedules.create(
            SLUG,
            name="weekly",
            timetable=Timetable(per_hour=2, hours_of_day=[1, 13], days_of_month=[1, 15]),
            parameters={"branch": "main"},
            attribution_actor="system",
        ),
        _p("/project/{slug}/schedule"),
        body=lambda w: {
            "name": "weekly",
            "timetable": {"per-hour": 2, "hours-of-day": [1, 13], "days-of-month": [1, 15]},
            "attribution-actor": "system",
            "parameters": {"branch": "main"},
        },
    ),
    "getScheduleById": Case(
        lambda c, w: c.schedules.get(w.schedule_id), _p("/schedule/{w.schedule_id}")
    ),
    "updateSchedule": Case(
        lambda c, w: c.schedules.update(w.schedule_id, name="hourly", description=None),
        _p("/schedule/{w.schedule_id}"),
        body=lambda w: {"name": "hourly", "description": None},
    ),
    "deleteScheduleById": Case(
        lambda c, w: c.schedules.delete(w.schedule_id), _p("/schedule/{w.schedule_id}")
    ),
    # -- webhooks
    "getWebhooks": Case(
        lambda c, w: c.webhooks.list(w.project_id),
        _p("/webhook"),
        lambda w: {"scope-id": w.project_id, "scope-type": "project"},
    ),
    "createWebhook": Case(
        lambda c, w: c.webhooks.create(
            name="ops",
            url="https://ops.example/hook",
            events=["job-completed"],
            scope_id=w.project_id,
            signing_secret="s3cr3t-s3cr3t",
        ),
        _p("/webhook"),
        body=lambda w: {
            "name": "ops",
            "url": "https://ops.example/hook",
            "events": ["job-completed"],
            "verify-tls": True,
            "signing-secret": "s3cr3t-s3cr3t",
            "scope": {"id": w.project_id, "type": "project"},
        },
    ),
    "getWebhookById": Case(
        lambda c, w: c.webhooks.get(w.webhook_id), _p("/webhook/{w.webhook_id}")
    ),
    "updateWebhook": Case(
        lambda c, w: c.webhooks.update(w.webhook_id, name="renamed", verify_tls=False),
        _p("/webhook/{w.webhook_id}"),
        body=lambda w: {"name": "renamed", "verify-tls": False},
    ),
    "deleteWebhook": Case(
        lambda c, w: c.webhooks.delete(w.webhook_id), _p("/webhook/{w.webhook_id}")
    ),
    # -- contexts
    "listContexts": Case(
        lambda c, w: c.contexts.list(owner_slug=ORG), _p("/context"), lambda w: {"owner-slug": ORG}
    ),
    "createContext": Case(
        lambda c, w: c.contexts.create("release", owner_id=w.org_id, owner_type="organization"),
        _p("/context"),
        body=lambda w: {"name": "release", "owner": {"id": w.org_id, "type": "organization"}},
    ),
    "getContext": Case(lambda c, w: c.contexts.get(w.context_id), _p("/context/{w.context_id}")),
    "deleteContext": Case(
        lambda c, w: c.contexts.delete(w.context_id), _p("/context/{w.context_id}")
    ),
    "listEnvironmentVariablesFromContext": Case(
        lambda c, w: c.contexts.env_vars(w.context_id),
        _p("/context/{w.context_id}/environment-variable"),
    ),
    "addEnvironmentVariableToContext": Case(
        lambda c, w: c.contexts.set_env_var(w.context_id, "NEW_SECRET", "v"),
        _p("/context/{w.context_id}/environment-variable/NEW_SECRET"),
        body=lambda w: {"value": "v"},
    ),
    "deleteEnvironmentVariableFromContext": Case(
        lambda c, w: c.contexts.delete_env_var(w.context_id, w.context_var),
        _p("/context/{w.context_id}/environment-variable/{w.context_var}"),
    ),
    "getContextRestrictions": Case(
        lambda c, w: c.contexts.restrictions(w.context_id),
        _p("/context/{w.context_id}/restrictions"),
    ),
    "createContextRestriction": Case(
        lambda c, w: c.contexts.create_restriction(
            w.context_id, "expression", 'pipeline.git.branch == "main"'
        ),
        _p("/context/{w.context_id}/restrictions"),
        body=lambda w: {
            "restriction_type": "expression",
            "restriction_value": 'pipeline.git.branch == "main"',
        },
    ),
    "deleteContextRestriction": Case(
        lambda c, w: c.contexts.delete_restriction(w.context_id, w.restriction_id),
        _p("/context/{w.context_id}/restrictions/{w.restriction_id}"),
    ),
    # -- organizations
    "createOrganization": Case(
        lambda c, w: c.organizations.create("newco", "circleci"),
        _p("/organization"),
        body=lambda w: {"name": "newco", "vcs_type": "circleci"},
    ),
    "deleteOrganization": Case(lambda c, w: c.organizations.delete(ORG), _p("/organization/{org}")),
    "listURLOrbAllowListEntries": Case(
        lambda c, w: c.organizations.url_orb_allow_list(ORG),
        _p("/organization/{org}/url-orb-allow-list"),
    ),
    "createURLOrbAllowListEntry": Case(
        lambda c, w: c.organizations.allow_url_orbs(
            ORG, name="internal", prefix="https://orbs.internal/", auth="github-app"
        ),
        _p("/organization/{org}/url-orb-allow-list"),
        body=lambda w: {
            "name": "internal",
            "prefix": "https://orbs.internal/",
            "auth": "github-app",
        },
    ),
    "removeURLOrbAllowListEntry": Case(
        lambda c, w: c.organizations.remove_url_orb_entry(ORG, w.allow_entry_id),
        _p("/organization/{org}/url-orb-allow-list/{w.allow_entry_id}"),
    ),
    "getOrganizationGroups": Case(
        lambda c, w: c.organizations.groups(w.org_id, limit=10),
        _p("/organizations/{w.org_id}/groups"),
        lambda w: {"limit": "10"},
    ),
    "createOrganizationGroup": Case(
        lambda c, w: c.organizations.create_group(w.org_id, "ops", description="on call"),
        _p("/organizations/{w.org_id}/groups"),
        body=lambda w: {"name": "ops", "description": "on call"},
    ),
    "getGroup": Case(
        lambda c, w: c.organizations.get_group(w.org_id, w.group_id),
        _p("/organizations/{w.org_id}/groups/{w.group_id}"),
    ),
    "deleteGroup": Case(
        lambda c, w: c.organizations.delete_group(w.org_id, w.group_id),
        _p("/organizations/{w.org_id}/groups/{w.group_id}"),
    ),
    # -- usage
    "createUsageExport": Case(
        lambda c, w: c.usage.create_export(
            w.org_id, start=START, end=END, shared_org_ids=[w.org_id]
        ),
        _p("/organizations/{w.org_id}/usage_export_job"),
        body=lambda w: {
            "start": START.isoformat(),
            "end": END.isoformat(),
            "shared_org_ids": [w.org_id],
        },
    ),
    "getUsageExport": Case(
        lambda c, w: c.usage.get_export(w.org_id, w.export_id),
        _p("/organizations/{w.org_id}/usage_export_job/{w.export_id}"),
    ),
    # -- OIDC
    "GetOrgClaims": Case(
        lambda c, w: c.oidc.org_claims(w.org_id), _p("/org/{w.org_id}/oidc-custom-claims")
    ),
    "PatchOrgClaims": Case(
        lambda c, w: c.oidc.update_org_claims(w.org_id, audience=["sts.example"], ttl="1h"),
        _p("/org/{w.org_id}/oidc-custom-claims"),
        body=lambda w: {"audience": ["sts.example"], "ttl": "1h"},
    ),
    "DeleteOrgClaims": Case(
        lambda c, w: c.oidc.delete_org_claims(w.org_id, ["audience"]),
        _p("/org/{w.org_id}/oidc-custom-claims"),
        lambda w: {"claims": "audience"},
    ),
    "GetProjectClaims": Case(
        lambda c, w: c.oidc.project_claims(w.org_id, w.project_id),
        _p("/org/{w.org_id}/project/{w.project_id}/oidc-custom-claims"),
    ),
    "PatchProjectClaims": Case(
        lambda c, w: c.oidc.update_project_claims(w.org_id, w.project_id, ttl="30m"),
        _p("/org/{w.org_id}/project/{w.project_id}/oidc-custom-claims"),
        body=lambda w: {"ttl": "30m"},
    ),
    "DeleteProjectClaims": Case(
        lambda c, w: c.oidc.delete_project_claims(w.org_id, w.project_id),
        _p("/org/{w.org_id}/project/{w.project_id}/oidc-custom-claims"),
        lambda w: {"claims": "audience,ttl"},
    ),
    # -- policies
    "GetDecisionLogs": Case(
        lambda c, w: c.policies.decision_logs(w.org_id, status="PASS", branch="main", offset=0),
        _p("/owner/{w.org_id}/context/config/decision"),
        lambda w: {"status": "PASS", "branch": "main", "offset": "0"},
    ),
    "MakeDecision": Case(
        lambda c, w: c.policies.decide(
            w.org_id, input="version: 2.1\n", metadata={"build_number": 7}
        ),
        _p("/owner/{w.org_id}/context/config/decision"),
        body=lambda w: {"input": "version: 2.1\n", "metadata": {"build_number": 7}},
    ),
    "GetDecisionSettings": Case(
        lambda c, w: c.policies.settings(w.org_id),
        _p("/owner/{w.org_id}/context/config/decision/settings"),
    ),
    "SetDecisionSettings": Case(
        lambda c, w: c.policies.update_settings(w.org_id, enabled=True),
        _p("/owner/{w.org_id}/context/config/decision/settings"),
        body=lambda w: {"enabled": True},
    ),
    "GetDecisionLog": Case(
        lambda c, w: c.policies.decision_log(w.org_id, w.decision_id),
        _p("/owner/{w.org_id}/context/config/decision/{w.decision_id}"),
    ),
    "GetDecisionLogPolicyBundle": Case(
        lambda c, w: c.policies.decision_policy_bundle(w.org_id, w.decision_id),
        _p("/owner/{w.org_id}/context/config/decision/{w.decision_id}/policy-bundle"),
    ),
    "GetPolicyBundle": Case(
        lambda c, w: c.policies.bundle(w.org_id),
        _p("/owner/{w.org_id}/context/config/policy-bundle"),
    ),
    "CreatePolicyBundle": Case(
        lambda c, w: c.policies.replace_bundle(
            w.org_id, policies={"extra": "package org\n"}, dry=True
        ),
        _p("/owner/{w.org_id}/context/config/policy-bundle"),
        lambda w: {"dry": "true"},
        lambda w: {"policies": {"extra": "package org\n"}},
    ),
    "GetPolicyDocument": Case(
        lambda c, w: c.policies.policy(w.org_id, w.policy_name),
        _p("/owner/{w.org_id}/context/config/policy-bundle/{w.policy_name}"),
    ),
    # -- deploys
    "listEnvironments": Case(
        lambda c, w: c.deploys.environments(w.org_id),
        _p("/deploy/environments"),
        lambda w: {"org-id": w.org_id, "page-size": "20"},
    ),
    "getEnvironment": Case(
        lambda c, w: c.deploys.environment(w.environment_id),
        _p("/deploy/environments/{w.environment_id}"),
    ),
    "listComponents": Case(
        lambda c, w: c.deploys.components(w.org_id, project_id=w.project_id, page_size=5),
        _p("/deploy/components"),
        lambda w: {"org-id": w.org_id, "project-id": w.project_id, "page-size": "5"},
    ),
    "getComponent": Case(
        lambda c, w: c.deploys.component(w.component_id), _p("/deploy/components/{w.component_id}")
    ),
    "listComponentVersions": Case(
        lambda c, w: c.deploys.component_versions(w.component_id, environment_id=w.environment_id),
        _p("/deploy/components/{w.component_id}/versions"),
        lambda w: {"environment-id": w.environment_id},
    ),
    "rollbackProject": Case(
        lambda c, w: c.deploys.rollback(
            w.project_id,
            component_name="api",
            environment_name="production",
            current_version="v2",
            target_version="v1",
            reason="bad release",
        ),
        _p("/projects/{w.project_id}/rollback"),
        body=lambda w: {
            "component_name": "api",
            "environment_name": "production",
            "current_version": "v2",
            "target_version": "v1",
            "reason": "bad release",
        },
    ),
    # -- pipeline definitions and triggers
    "listPipelineDefinitions": Case(
        lambda c, w: c.pipeline_definitions.list(w.project_id),
        _p("/projects/{w.project_id}/pipeline-definitions"),
    ),
    "createPipelineDefinition": Case(
        lambda c, w: c.pipeline_definitions.create(
            w.project_id,
            name="nightly",
            config_source=ConfigSource(provider="circleci", file_path=".circleci/nightly.yml"),
            checkout_source=CheckoutSource(provider="github_app", repo=RepoRef(external_id="42")),
        ),
        _p("/projects/{w.project_id}/pipeline-definitions"),
        body=lambda w: {
            "name": "nightly",
            "config_source": {"provider": "circleci", "file_path": ".circleci/nightly.yml"},
            "checkout_source": {"provider": "github_app", "repo": {"external_id": "42"}},
        },
    ),
    "getPipelineDefinition": Case(
        lambda c, w: c.pipeline_definitions.get(w.project_id, w.definition_id),
        _p("/projects/{w.project_id}/pipeline-definitions/{w.definition_id}"),
    ),
    "updatePipelineDefinition": Case(
        lambda c, w: c.pipeline_definitions.update(
            w.project_id,
            w.definition_id,
            description="main line",
            config_file_path=".circleci/main.yml",
        ),
        _p("/projects/{w.project_id}/pipeline-definitions/{w.definition_id}"),
        body=lambda w: {
            "description": "main line",
            "config_source": {"file_path": ".circleci/main.yml"},
        },
    ),
    "deletePipelineDefinition": Case(
        lambda c, w: c.pipeline_definitions.delete(w.project_id, w.definition_id),
        _p("/projects/{w.project_id}/pipeline-definitions/{w.definition_id}"),
    ),
    "listPipelineDefinitionTriggers": Case(
        lambda c, w: c.triggers.list(w.project_id, w.definition_id),
        _p("/projects/{w.project_id}/pipeline-definitions/{w.definition_id}/triggers"),
    ),
    "createTrigger": Case(
        lambda c, w: c.triggers.create(
            w.project_id,
            w.definition_id,
            event_source=TriggerEventSource(provider="github_app", repo=RepoRef(external_id="42")),
            event_preset="only-tags",
            checkout_ref="main",
        ),
        _p("/projects/{w.project_id}/pipeline-definitions/{w.definition_id}/triggers"),
        body=lambda w: {
            "event_source": {"provider": "github_app", "repo": {"external_id": "42"}},
            "event_preset": "only-tags",
            "checkout_ref": "main",
        },
    ),
    "getTrigger": Case(
        lambda c, w: c.triggers.get(w.project_id, w.trigger_id),
        _p("/projects/{w.project_id}/triggers/{w.trigger_id}"),
    ),
    "updateTrigger": Case(
        lambda c, w: c.triggers.update(
            w.project_id, w.trigger_id, disabled=True, config_ref="main"
        ),
        _p("/projects/{w.project_id}/triggers/{w.trigger_id}"),
        body=lambda w: {"disabled": True, "config_ref": "main"},
    ),
    "deleteTrigger": Case(
        lambda c, w: c.triggers.delete(w.project_id, w.trigger_id),
        _p("/projects/{w.project_id}/triggers/{w.trigger_id}"),
    ),
    # -- insights
    "getProjectWorkflowsPageData": Case(
        lambda c, w: c.insights.project_summary(
            SLUG,
            reporting_window="last-30-days",
            branches=["main", "dev"],
            workflow_names=["build-and-test"],
        ),
        _p("/insights/pages/{slug}/summary"),
        lambda w: {
            "reporting-window": "last-30-days",
            "branches": ["main", "dev"],
            "workflow-names": ["build-and-test"],
        },
    ),
    "getJobTimeseries": Case(
        lambda c, w: c.insights.job_timeseries(
            SLUG,
            "build-and-test",
            branch="main",
            granularity="hourly",
            start_date=START,
            end_date=END,
        ),
        _p("/insights/time-series/{slug}/workflows/build-and-test/jobs"),
        lambda w: {
            "branch": "main",
            "granularity": "hourly",
            "start-date": "2026-01-01T00:00:00Z",
            "end-date": "2026-01-15T00:00:00Z",
        },
    ),
    "getOrgSummaryData": Case(
        lambda c, w: c.insights.org_summary(
            ORG, reporting_window="last-7-days", project_names=["widgets"]
        ),
        _p("/insights/{org}/summary"),
        lambda w: {"reporting-window": "last-7-days", "project-names": ["widgets"]},
    ),
    "getAllInsightsBranches": Case(
        lambda c, w: c.insights.branches(SLUG, workflow_name="build-and-test"),
        _p("/insights/{slug}/branches"),
        lambda w: {"workflow-name": "build-and-test"},
    ),
    "getFlakyTests": Case(
        lambda c, w: c.insights.flaky_tests(SLUG), _p("/insights/{slug}/flaky-tests")
    ),
    "getProjectWorkflowMetrics": Case(
        lambda c, w: c.insights.workflow_metrics(
            SLUG, all_branches=True, reporting_window="last-90-days"
        ),
        _p("/insights/{slug}/workflows"),
        lambda w: {"all-branches": "true", "reporting-window": "last-90-days"},
    ),
    "getProjectWorkflowRuns": Case(
        lambda c, w: c.insights.workflow_runs(
            SLUG, "build-and-test", branch="main", start_date=START
        ),
        _p("/insights/{slug}/workflows/build-and-test"),
        lambda w: {"branch": "main", "start-date": "2026-01-01T00:00:00Z"},
    ),
    "getProjectWorkflowJobMetrics": Case(
        lambda c, w: c.insights.job_metrics(SLUG, "build-and-test", job_name="test"),
        _p("/insights/{slug}/workflows/build-and-test/jobs"),
        lambda w: {"job-name": "test"},
    ),
    "getWorkflowSummary": Case(
        lambda c, w: c.insights.workflow_summary(SLUG, "build-and-test", all_branches=True),
        _p("/insights/{slug}/workflows/build-and-test/summary"),
        lambda w: {"all-branches": "true"},
    ),
    "getProjectWorkflowTestMetrics": Case(
        lambda c, w: c.insights.test_metrics(SLUG, "build-and-test", branch="main"),
        _p("/insights/{slug}/workflows/build-and-test/test-metrics"),
        lambda w: {"branch": "main"},
    ),
    # -- runner (paths under /api/v3)
    "listRunners": Case(
        lambda c, w: c.runner.runners(resource_class=w.resource_class),
        _p("/runner"),
        lambda w: {"resource-class": w.resource_class},
    ),
    "getUnclaimedTaskCount": Case(
        lambda c, w: c.runner.unclaimed_task_count(w.resource_class),
        _p("/runner/tasks"),
        lambda w: {"resource-class": w.resource_class},
    ),
    "getRunningTaskCount": Case(
        lambda c, w: c.runner.running_task_count(w.resource_class),
        _p("/runner/tasks/running"),
        lambda w: {"resource-class": w.resource_class},
    ),
    "listResourceClasses": Case(
        lambda c, w: c.runner.resource_classes(namespace="acme"),
        _p("/runner/resource"),
        lambda w: {"namespace": "acme"},
    ),
    "createResourceClass": Case(
        lambda c, w: c.runner.create_resource_class("acme/mac", description="macs"),
        _p("/runner/resource"),
        body=lambda w: {"resource_class": "acme/mac", "description": "macs"},
    ),
    "deleteResourceClass": Case(
        lambda c, w: c.runner.delete_resource_class(w.resource_class_id),
        _p("/runner/resource/{w.resource_class_id}"),
    ),
    "forceDeleteResourceClass": Case(
        lambda c, w: c.runner.force_delete_resource_class(w.resource_class_id),
        _p("/runner/resource/{w.resource_class_id}/force"),
    ),
    "listTokens": Case(
        lambda c, w: c.runner.tokens(w.resource_class),
        _p("/runner/token"),
        lambda w: {"resource-class": w.resource_class},
    ),
    "createToken": Case(
        lambda c, w: c.runner.create_token(w.resource_class, "box-2"),
        _p("/runner/token"),
        body=lambda w: {"resource_class": w.resource_class, "nickname": "box-2"},
    ),
    "deleteToken": Case(
        lambda c, w: c.runner.delete_token(w.token_id), _p("/runner/token/{w.token_id}")
    ),
}
