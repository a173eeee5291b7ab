"""Every v3 route beyond runs, workflows and jobs, over TCP against the fake: the request as the
server received it (method, path, filters, body: envelope or flat), the answer read into its
model, pages where it is a list, state kept where it matters, and the errors (a missing required
filter is a 400, an unknown id a 404, an unknown create member a 400, a removed route a 410)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from circleci_async import CircleCI, ConfigurationError, NotFound
from circleci_async.errors import BadRequest, Conflict, Gone
from circleci_async.testing import FakeCircleCI
from circleci_async.v3.models import (
    ConfigSourceType,
    NextStep,
    RestrictionType,
    RollbackType,
    TriggerEventType,
)

SLUG = "gh/acme/widgets"


def _v3(fake: FakeCircleCI, method: str, path: str) -> list[Any]:
    """The v3 requests the fake received for ``method path`` (path relative to /api/v3)."""
    full = "/api/v3" + path
    return [r for r in fake.requests if r.method == method and r.path == full]


def _last(fake: FakeCircleCI, method: str, path: str) -> Any:
    seen = _v3(fake, method, path)
    assert seen, f"no {method} {path} reached the fake"
    return seen[-1]


async def _ids(client: CircleCI) -> tuple[str, str]:
    project = await client.v3.projects.lookup(SLUG)
    org = await client.v3.orgs.lookup("gh/acme")
    assert project is not None and org is not None
    return str(project.id), str(org.id)


# -- pipelines, triggers, config ------------------------------------------------------------


async def test_pipelines_are_listed_created_and_listed_again(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    project_id, _ = await _ids(client)
    (seeded,) = await client.v3.pipelines.list(project_id).collect()
    assert seeded.attributes.name == "build"
    assert seeded.attributes.config is not None
    assert seeded.attributes.config.type is ConfigSourceType.VCS
    assert seeded.attributes.config.vcs is not None and seeded.attributes.config.vcs.repo_id
    assert str(seeded.references.project.id) == project_id  # type: ignore[union-attr]
    assert _last(fake, "GET", "/pipelines").query["filter[project_id]"] == project_id

    config = {
        "type": "vcs",
        "file_path": ".circleci/deploy.yml",
        "vcs": {"provider": "github_app", "repo_id": "42", "repo_full_name": "acme/w"},
    }
    created = await client.v3.pipelines.create(
        project_id, name="deploy", config=config, checkout={"type": "vcs"}, description="d"
    )
    body = _last(fake, "POST", "/pipelines").json()
    assert body == {
        "data": {
            "attributes": {
                "name": "deploy",
                "config": config,
                "checkout": {"type": "vcs"},
                "description": "d",
            },
            "references": {"project": {"id": project_id}},
        }
    }
    assert created.attributes.name == "deploy" and created.attributes.created_at is not None

    fake.page_size = 1
    pager = client.v3.pipelines.list(project_id)
    assert [p.id for p in await pager.collect()] == [seeded.id, created.id]
    pages = [r.query.get("page[cursor]") for r in _v3(fake, "GET", "/pipelines")[-2:]]
    assert pages[0] is None and pages[1]

    with pytest.raises(BadRequest) as missing:
        await client.v3.request("GET", "pipelines")
    assert missing.value.error is not None and missing.value.error.pointer == "filter[project_id]"
    with pytest.raises(NotFound):
        await client.v3.pipelines.list(str(uuid.uuid4())).collect()
    with pytest.raises(BadRequest, match="unknown attribute 'id'"):
        await client.v3.request(
            "POST",
            "pipelines",
            json={
                "data": {
                    "attributes": {"id": "x", "name": "n", "config": {}, "checkout": {}},
                    "references": {"project": {"id": project_id}},
                }
            },
        )


async def test_a_created_trigger_is_listed_afterwards(fake: FakeCircleCI, client: CircleCI) -> None:
    project_id, _ = await _ids(client)
    (pipeline,) = await client.v3.pipelines.list(project_id).collect()
    (seeded,) = await client.v3.triggers.list(project_id).collect()
    assert seeded.attributes.event is not None
    assert seeded.attributes.event.type is TriggerEventType.VCS
    event = {"type": "schedule", "schedule": {"name": "nightly", "cron_expression": "0 3 * * *"}}
    created = await client.v3.triggers.create(
        project_id, pipeline.id, event=event, config_ref="main"
    )
    sent = _last(fake, "POST", "/triggers")
    assert sent.query["filter[project_id]"] == project_id
    assert sent.json() == {
        "data": {
            "attributes": {"is_disabled": False, "event": event, "config": {"ref": "main"}},
            "references": {"pipeline": {"id": str(pipeline.id)}},
        }
    }
    assert created.attributes.event is not None and created.attributes.event.schedule is not None
    assert created.attributes.event.schedule.cron_expression == "0 3 * * *"
    listed = await client.v3.triggers.list(project_id, pipeline_id=pipeline.id).collect()
    assert [t.id for t in listed] == [seeded.id, created.id]
    assert _last(fake, "GET", "/triggers").query["filter[pipeline_id]"] == str(pipeline.id)
    with pytest.raises(BadRequest):
        await client.v3.triggers.create(project_id, pipeline.id, event={"type": "carrier-pigeon"})
    with pytest.raises(NotFound):
        await client.v3.triggers.create(project_id, uuid.uuid4(), event=event)


async def test_config_compile_answers_200_either_way(fake: FakeCircleCI, client: CircleCI) -> None:
    _, org_id = await _ids(client)
    good = await client.v3.configs.compile(
        "version: 2.1\njobs: {}\n", org_id=org_id, pipeline_parameters={"deploy": True}
    )
    assert good.succeeded and good.attributes.compiled_config == "version: 2.1\njobs: {}\n"
    assert good.messages == []
    assert _last(fake, "POST", "/configs/compile").json() == {
        "data": {
            "attributes": {
                "config": "version: 2.1\njobs: {}\n",
                "pipeline_parameters": {"deploy": True},
            },
            "references": {"org": {"id": org_id}},
        }
    }
    bad = await client.v3.configs.compile("jobs: {}\n")
    assert not bad.succeeded and bad.attributes.outcome == "failed"
    assert [m.title for m in bad.messages] == ["config: a version is required"]


# -- contexts -------------------------------------------------------------------------------


async def test_context_variables_set_then_listed_then_deleted(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    _, org_id = await _ids(client)
    (context,) = await client.v3.contexts.list(org_id, name="org-global").collect()
    assert _last(fake, "GET", "/contexts").query["filter[name]"] == "org-global"
    got = await client.v3.contexts.get(context.id)
    assert got.references.org is not None and str(got.references.org.id) == org_id
    await client.v3.contexts.set_env_var(context.id, "API_KEY", "s3cr3t-value")
    assert _last(fake, "POST", f"/contexts/{context.id}/env-vars/set").json() == {
        "name": "API_KEY",
        "value": "s3cr3t-value",
    }
    await client.v3.contexts.set_env_var(context.id, "OTHER", "abcd1234")
    fake.page_size = 1
    variables = await client.v3.contexts.env_vars(context.id, limit=1).collect()
    assert [v.attributes.name for v in variables] == ["API_KEY", "OTHER"]
    assert all(v.id is None for v in variables)
    assert variables[0].attributes.truncated_value == "xxxxalue"
    assert str(variables[0].references.context.id) == str(context.id)  # type: ignore[union-attr]
    await client.v3.contexts.delete_env_var(context.id, "API_KEY")
    deleted = _last(fake, "DELETE", f"/contexts/{context.id}/env-vars")
    assert deleted.query["filter[name]"] == "API_KEY"
    left = await client.v3.contexts.env_vars(context.id).collect()
    assert [v.attributes.name for v in left] == ["OTHER"]
    with pytest.raises(NotFound):
        await client.v3.contexts.delete_env_var(context.id, "API_KEY")
    with pytest.raises(NotFound):
        await client.v3.contexts.get(uuid.uuid4())
    with pytest.raises(ConfigurationError, match="at most 100"):
        client.v3.contexts.list(org_id, limit=101)
    with pytest.raises(BadRequest):
        await client.v3.request("GET", "contexts")


async def test_context_restrictions(fake: FakeCircleCI, client: CircleCI) -> None:
    project_id, org_id = await _ids(client)
    (context,) = await client.v3.contexts.list(org_id).collect()
    made = await client.v3.contexts.create_restriction(context.id, "project", project_id)
    assert _last(fake, "POST", "/context-restrictions").json() == {
        "data": {
            "attributes": {"restriction_type": "project", "match_pattern": project_id},
            "references": {"context": {"id": str(context.id)}},
        }
    }
    assert made.attributes.restriction_type is RestrictionType.PROJECT
    assert made.attributes.name == "widgets"
    listed = await client.v3.contexts.restrictions(context.id).collect()
    assert [r.id for r in listed] == [made.id]
    assert made.id is not None
    await client.v3.contexts.delete_restriction(context.id, made.id)
    assert _last(fake, "DELETE", f"/context-restrictions/{made.id}").query[
        "filter[context_id]"
    ] == str(context.id)
    assert await client.v3.contexts.restrictions(context.id).collect() == []
    with pytest.raises(NotFound):
        await client.v3.contexts.delete_restriction(context.id, made.id)


# -- settings, dlc, rollback, groups ---------------------------------------------------------


async def test_settings_updates_are_flat_partial_and_read_back(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    project_id, org_id = await _ids(client)
    org = await client.v3.orgs.update_settings(org_id, enable_ai_agents=True)
    assert _last(fake, "POST", f"/orgs/{org_id}/update-settings").json() == {
        "enable_ai_agents": True
    }
    assert org.attributes.enable_ai_agents is True and org.attributes.is_running_disabled is False
    assert (await client.v3.orgs.settings(org_id)).attributes.enable_ai_agents is True
    project = await client.v3.projects.update_settings(
        project_id, is_ssh_disabled=True, pr_only_branch_overrides=["main", "release"]
    )
    assert project.attributes.is_ssh_disabled is True
    assert (await client.v3.projects.settings(project_id)).attributes.pr_only_branch_overrides == [
        "main",
        "release",
    ]
    with pytest.raises(ConfigurationError, match="unknown settings"):
        await client.v3.projects.update_settings(project_id, is_sh_disabled=True)
    with pytest.raises(BadRequest):
        await client.v3.request("POST", f"orgs/{org_id}/update-settings", json={"nope": 1})


async def test_dlc_purge_rollback_and_groups(fake: FakeCircleCI, client: CircleCI) -> None:
    project_id, org_id = await _ids(client)
    await client.v3.projects.purge_dlc(project_id)
    assert _last(fake, "DELETE", f"/projects/{project_id}/dlc")
    fake.v3.remove("DELETE", "/projects/{id}/dlc")
    with pytest.raises(Gone):
        await client.v3.projects.purge_dlc(project_id)

    (component,) = await client.v3.deploy.components(org_id, project_id=project_id).collect()
    (environment,) = await client.v3.deploy.environments(org_id).collect()
    rollback = await client.v3.projects.rollback(
        project_id,
        component_id=component.id,
        environment_id=environment.id,
        current_version="1.0.0",
        target_version="0.9.0",
        reason="bad deploy",
    )
    assert _last(fake, "POST", f"/projects/{project_id}/rollback").json() == {
        "component_id": str(component.id),
        "environment_id": str(environment.id),
        "current_version": "1.0.0",
        "target_version": "0.9.0",
        "reason": "bad deploy",
    }
    assert rollback.attributes.rollback_type is RollbackType.PIPELINE
    assert rollback.references.deploy_component is not None
    with pytest.raises(BadRequest):
        await client.v3.projects.rollback(
            project_id,
            component_id=component.id,
            environment_id=environment.id,
            current_version="7.0.0",
            target_version="0.9.0",
        )

    (group,) = await client.v3.orgs.groups(org_id).collect()
    assert group.attributes.name == "admins"
    assert _last(fake, "GET", "/groups").query["filter[org_id]"] == org_id


# -- providers, deploy ------------------------------------------------------------------------


async def test_connections_setup_and_repositories(fake: FakeCircleCI, client: CircleCI) -> None:
    _, org_id = await _ids(client)
    fake.add_project("gh/acme/gadgets")
    (connection,) = await client.v3.connections.list(org_id).collect()
    assert connection.attributes.provider == "github_app"
    setup = await client.v3.connections.setup(org_id, "github_app", "https://app.example/back")
    sent = _last(fake, "POST", "/provider/connections/setup")
    assert sent.query["filter[org_id]"] == org_id
    assert sent.json() == {
        "type": "vcs",
        "vcs": {"provider": "github_app"},
        "return_url": "https://app.example/back",
    }
    assert setup.attributes.next_step is NextStep.REDIRECT and setup.attributes.state_token
    again = await client.v3.connections.setup(org_id, "github_app", "https://app.example/back")
    assert again.attributes.state_token != setup.attributes.state_token

    repos = await client.v3.connections.repositories(org_id, "github_app", limit=1).collect()
    assert [r.attributes.repo_full_name for r in repos] == ["acme/gadgets", "acme/widgets"]
    first, second = _v3(fake, "GET", "/provider/repositories")[-2:]
    assert first.query["page[limit]"] == "1" and "page[cursor]" not in first.query
    assert "page[limit]" not in second.query and second.query["page[cursor]"]
    with pytest.raises(BadRequest, match="cannot go with"):
        await client.v3.request(
            "GET",
            "provider/repositories",
            params={
                "filter[org_id]": org_id,
                "filter[provider]": "github_app",
                "page[limit]": "1",
                "page[cursor]": second.query["page[cursor]"],
            },
        )
    with pytest.raises(ConfigurationError, match="at most 100"):
        client.v3.connections.repositories(org_id, "github_app", limit=101)


async def test_deploy_reads(fake: FakeCircleCI, client: CircleCI) -> None:
    project_id, org_id = await _ids(client)
    (deployment,) = await client.v3.deploy.deployments(org_id, project_id=project_id).collect()
    query = _last(fake, "GET", "/deploy/deployments").query
    assert query["filter[org_id]"] == org_id and query["filter[project_id]"] == project_id
    assert deployment.attributes.target_version is not None
    assert deployment.attributes.target_version.name == "1.0.0"
    ref = deployment.references.deploy_component
    assert ref is not None and ref.attributes is not None and ref.attributes.name == "widgets"
    component = await client.v3.deploy.component(ref.id)  # type: ignore[arg-type]
    assert str(component.references.project.id) == project_id  # type: ignore[union-attr]
    (environment,) = await client.v3.deploy.environments(org_id).collect()
    assert (await client.v3.deploy.environment(environment.id)).attributes.name == "production"
    fake.page_size = 1
    versions = await client.v3.deploy.component_versions(
        component.id, environment_id=environment.id
    ).collect()
    assert [v.attributes.name for v in versions] == ["1.0.0", "0.9.0"]
    assert _last(fake, "GET", f"/deploy/components/{component.id}/versions").query[
        "filter[environment_id]"
    ] == str(environment.id)
    settings = await client.v3.deploy.settings(project_id)
    assert str(settings.references.project.id) == project_id  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await client.v3.deploy.component(uuid.uuid4())
    with pytest.raises(BadRequest):
        await client.v3.request("GET", "deploy/components")


# -- signing ----------------------------------------------------------------------------------


async def test_signing_certificates_and_configs(fake: FakeCircleCI, client: CircleCI) -> None:
    _, org_id = await _ids(client)
    cert = await client.v3.signing.upload_certificate(org_id, "dist.p12", b"\x00cert", "pw")
    sent = _last(fake, "POST", "/signing/certificates").json()
    assert sent["data"]["attributes"]["cert_blob"] == base64.b64encode(b"\x00cert").decode()
    assert sent["data"]["references"] == {"org": {"id": org_id}}
    (listed,) = await client.v3.signing.certificates(org_id).collect()
    assert listed.id == str(cert.id) and listed.attributes.file_name == "dist.p12"
    made = await client.v3.signing.create_config(
        org_id, str(cert.id), "release", [("app.mobileprovision", b"profile")]
    )
    (config,) = await client.v3.signing.configs(org_id).collect()
    assert config.id == str(made.id) and config.attributes.name == "release"
    assert [p.file_name for p in config.attributes.provisioning_profiles] == ["app.mobileprovision"]
    assert config.references.signing_certificate is not None
    assert config.references.signing_certificate.attributes is not None
    with pytest.raises(Conflict):
        await client.v3.signing.delete_certificate(str(cert.id))
    await client.v3.signing.update_profile(str(made.id), "ext.mobileprovision", b"p2")
    assert _last(fake, "POST", f"/signing/configs/{made.id}/update-profile").json() == {
        "file_name": "ext.mobileprovision",
        "blob": base64.b64encode(b"p2").decode(),
    }
    (config,) = await client.v3.signing.configs(org_id).collect()
    profile_id = config.attributes.provisioning_profiles[0].id
    assert profile_id is not None and len(config.attributes.provisioning_profiles) == 2
    await client.v3.signing.remove_profile(str(made.id), profile_id)
    await client.v3.signing.remove_profile(str(made.id), profile_id)  # absent: a no-op
    (config,) = await client.v3.signing.configs(org_id).collect()
    assert len(config.attributes.provisioning_profiles) == 1
    await client.v3.signing.delete_config(str(made.id))
    await client.v3.signing.delete_certificate(str(cert.id))
    assert await client.v3.signing.certificates(org_id).collect() == []
    with pytest.raises(NotFound):
        await client.v3.signing.delete_config(str(made.id))


# -- orbs, namespaces, functions, tools ----------------------------------------------------------


async def test_namespaces_orbs_and_versions(fake: FakeCircleCI, client: CircleCI) -> None:
    _, org_id = await _ids(client)
    assert await client.v3.namespaces.lookup("acme-orbs") is None
    ns = await client.v3.namespaces.create("acme-orbs", org_id)
    assert _last(fake, "POST", "/namespaces").json() == {"name": "acme-orbs", "org_id": org_id}
    found = await client.v3.namespaces.lookup("acme-orbs")
    assert found is not None and found.id == ns.id
    assert _last(fake, "GET", "/namespaces").query["filter[name]"] == "acme-orbs"
    package = await client.v3.orbs.create_package(ns.id, "tools", private=True)
    assert package.attributes.name == "acme-orbs/tools" and package.attributes.is_private
    assert _last(fake, "POST", "/orb/packages").json() == {
        "data": {
            "attributes": {"name": "tools", "is_private": True},
            "references": {"namespace": {"id": str(ns.id)}},
        }
    }
    dev = await client.v3.orbs.publish(package.id, "dev:alpha", "version: 2.1\n")
    assert _last(fake, "POST", "/orb/versions").json() == {
        "data": {
            "attributes": {
                "orb_id": str(package.id),
                "yaml": "version: 2.1\n",
                "version": "dev:alpha",
            }
        }
    }
    released = await client.v3.orbs.promote(dev.id, "minor")
    assert released.attributes.version == "0.1.0"
    assert _last(fake, "POST", f"/orb/versions/{dev.id}/promote").json() == {"segment": "minor"}
    assert await client.v3.orbs.source(released.id) == "version: 2.1\n"
    assert (await client.v3.orbs.version(released.id)).references.orb_package is not None
    by_ref = await client.v3.orbs.versions(ref="acme-orbs/tools@0.1.0").collect()
    assert [v.id for v in by_ref] == [released.id]
    fake.page_size = 1
    every = await client.v3.orbs.versions(orb_id=package.id).collect()
    assert [v.attributes.version for v in every] == ["0.1.0", "dev:alpha"]

    (category, *_) = await client.v3.orbs.categories().collect()
    listed = await client.v3.orbs.set_listed(package.id, False)
    assert listed.attributes.is_listed is False
    added = await client.v3.orbs.add_category(package.id, category.id)
    assert [c.id for c in added.references.orb_categories] == [category.id]
    removed = await client.v3.orbs.remove_category(package.id, category.id)
    assert removed.references.orb_categories == []
    got = await client.v3.orbs.package(package.id)
    assert [v.attributes.version for v in got.references.orb_versions if v.attributes] == [
        "0.1.0",
        "dev:alpha",
    ]
    (by_name,) = await client.v3.orbs.packages(name="acme-orbs/tools", private=True).collect()
    assert by_name.id == package.id
    query = _last(fake, "GET", "/orb/packages").query
    assert query["filter[visibility]"] == "private" and query["filter[name]"] == "acme-orbs/tools"
    assert await client.v3.orbs.packages(name="acme-orbs/none").collect() == []
    check = await client.v3.orbs.validate("jobs: {}\n", org_id=org_id)
    assert check.attributes.is_valid is False and check.attributes.errors

    renamed = await client.v3.namespaces.rename(ns.id, "acme-tools")
    assert renamed.attributes.name == "acme-tools"
    await client.v3.namespaces.delete(ns.id)
    with pytest.raises(NotFound):
        await client.v3.orbs.package(package.id)
    with pytest.raises(BadRequest):
        await client.v3.orbs.versions().collect()


async def test_functions_and_tool_releases(fake: FakeCircleCI, client: CircleCI) -> None:
    (function,) = await client.v3.functions.packages(name="gh/acme/notify").collect()
    assert function.attributes.latest_version == "1.2.0"
    assert [v.attributes.version for v in function.references.versions if v.attributes] == [
        "1.2.0",
        "1.1.0",
    ]
    assert await client.v3.functions.packages(name="gh/acme/none").collect() == []
    release = await client.v3.tools.latest()
    assert release is not None and release.attributes.version == "0.1.33000"
    assert release.attributes.published_at is not None
    assert _last(fake, "GET", "/tool/releases").query["filter[tool]"] == "circleci-cli"
    with pytest.raises(BadRequest):
        await client.v3.request("GET", "tool/releases")


# -- analysis, runner --------------------------------------------------------------------------


async def test_charges_page_through_the_body(fake: FakeCircleCI, client: CircleCI) -> None:
    project_id, _ = await _ids(client)
    for _ in range(3):
        fake.add_pipeline(SLUG, "main")
    rows = await client.v3.analysis.charges(
        "charge.pipeline", [project_id], limit=2, order_by="credits desc"
    ).collect()
    assert len(rows) == 3
    credits = [row.attributes.credits or 0 for row in rows]
    assert credits == sorted(credits, reverse=True)
    assert all(str(row.references.project.id) == project_id for row in rows)  # type: ignore[union-attr]
    first, second = [r.json() for r in _v3(fake, "POST", "/analysis/charges")]
    assert first == {
        "analysis": "charge.pipeline",
        "scope": {"project_ids": [project_id]},
        "order_by": "credits desc",
        "page": {"cursor": "", "limit": 2},
    }
    assert second["page"]["cursor"]
    with pytest.raises(ConfigurationError, match="at most 20"):
        client.v3.analysis.charges("charge.job", [project_id], limit=21)
    with pytest.raises(ConfigurationError, match="analysis must be"):
        client.v3.analysis.charges("charge.org", [project_id])
    with pytest.raises(BadRequest):
        await client.v3.request("POST", "analysis/charges", json={"analysis": "charge.job"})


async def test_the_v3_style_runner_surface(fake: FakeCircleCI, client: CircleCI) -> None:
    _, org_id = await _ids(client)
    rc = await client.v3.runner.create_resource_class(org_id, "acme/linux", "Linux boxes")
    assert _last(fake, "POST", "/runner/resource-classes").json() == {
        "data": {
            "attributes": {"resource_class": "acme/linux", "description": "Linux boxes"},
            "references": {"org": {"id": org_id}},
        }
    }
    assert rc.id is not None and rc.attributes.resource_class == "acme/linux"
    (listed,) = await client.v3.runner.resource_classes(org_id).collect()
    assert listed.id == rc.id
    updated = await client.v3.runner.update_resource_class(rc.id, "Bigger boxes")
    assert _last(fake, "POST", f"/runner/resource-classes/{rc.id}/update").json() == {
        "description": "Bigger boxes"
    }
    assert (
        await client.v3.runner.resource_class(rc.id)
    ).attributes.description == updated.attributes.description
    token = await client.v3.runner.create_token(rc.id, "host-1")
    assert token.attributes.token and token.attributes.token not in repr(token)
    fake.v3.runner.agents.extend(
        {"id": f"a{i}", "name": f"host-{i}", "resource_class": rc.id, "org": org_id}
        for i in range(3)
    )
    agents = await client.v3.runner.agents(resource_class=rc.id, limit=2).collect()
    assert [a.attributes.name for a in agents] == ["host-0", "host-1", "host-2"]
    with pytest.raises(ConfigurationError, match="exactly one"):
        client.v3.runner.agents()
    with pytest.raises(BadRequest, match="force"):
        await client.v3.runner.delete_resource_class(rc.id)
    await client.v3.runner.delete_resource_class(rc.id, force=True)
    assert _last(fake, "DELETE", f"/runner/resource-classes/{rc.id}").query["force"] == "true"
    with pytest.raises(NotFound):
        await client.v3.runner.resource_class(rc.id)
