"""Typed models of API v3 answers: one entity is ``id``, ``attributes`` and ``references``, each
a typed field, as the notes' field tables (``shared/notes/api-v3.md`` §2) list them.

Tolerance is the rule, because no official schema could be read: every attribute is optional
(missing or ``null`` reads as ``None`` or empty), unknown members are ignored, and the lifecycle
enums are open (:class:`~circleci_async.models.OpenEnum`), so a phase or outcome added later
parses as a value whose ``known`` is false. The envelope (``_envelope.py``) hands these models
an entity whose ``attributes`` and ``references`` are always objects.
"""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ...models import OpenEnum

__all__ = [
    "Artifact",
    "ArtifactAttributes",
    "EventSource",
    "Job",
    "JobAttributes",
    "JobReferences",
    "JobStep",
    "NamedAttributes",
    "NamedRef",
    "Org",
    "OrgAttributes",
    "OrgSettings",
    "OrgSettingsAttributes",
    "Outcome",
    "ParallelExecution",
    "Phase",
    "Project",
    "ProjectAttributes",
    "ProjectReferences",
    "ProjectSettings",
    "ProjectSettingsAttributes",
    "Ref",
    "ResourceClassUsage",
    "ResourceUsage",
    "ResourceUsageAttributes",
    "ResourceUsageExecution",
    "Run",
    "RunAttributes",
    "RunError",
    "RunEvent",
    "RunEventAttributes",
    "RunReferences",
    "RunTrigger",
    "RunTriggerAttributes",
    "RunUser",
    "RunUserAttributes",
    "RunVcs",
    "RunVcsAuthor",
    "RunVcsCommit",
    "TestOutcome",
    "TestResult",
    "User",
    "UserAttributes",
    "Workflow",
    "WorkflowAttributes",
    "WorkflowReferences",
    "WorkflowRerun",
]


class Phase(OpenEnum):
    """Where a run, workflow, job or step is (§3.4). Others may appear: an unknown phase reads
    as not started, as the official CLI reads it."""

    CREATED = "created"
    QUEUED = "queued"
    STARTED = "started"
    ENDED = "ended"


class Outcome(OpenEnum):
    """How it ended (``outcome``) or is going (``current_outcome``: in phase ``started``,
    ``failed`` means failing, ``canceled`` canceling, ``errored`` erroring)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    ERRORED = "errored"
    NOT_RUN = "not_run"
    UNAUTHORIZED = "unauthorized"
    INFRASTRUCTURE_FAIL = "infrastructure_fail"
    TIMEDOUT = "timedout"


# -- references --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Ref:
    """A reference: another entity's id."""

    id: uuid.UUID | None = None


@attrs.frozen(kw_only=True)
class NamedAttributes:
    name: str | None = None


@attrs.frozen(kw_only=True)
class NamedRef:
    """A reference with the denormalised ``attributes.name`` some lists carry (projects' org)."""

    id: uuid.UUID | None = None
    attributes: NamedAttributes | None = None


# -- users, orgs, projects ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UserAttributes:
    name: str | None = None
    login: str | None = None
    avatar_url: str | None = None


@attrs.frozen(kw_only=True)
class User:
    id: uuid.UUID
    attributes: UserAttributes = attrs.Factory(UserAttributes)


@attrs.frozen(kw_only=True)
class OrgAttributes:
    """[inferred] The notes model only the id of an org lookup; ``name`` and ``slug`` are read
    when present."""

    name: str | None = None
    slug: str | None = None


@attrs.frozen(kw_only=True)
class Org:
    id: uuid.UUID
    attributes: OrgAttributes = attrs.Factory(OrgAttributes)


@attrs.frozen(kw_only=True)
class OrgSettingsAttributes:
    is_runner_terms_of_service_accepted: bool | None = None
    enable_ai_error_summarization: bool | None = None
    enable_ai_agents: bool | None = None
    enable_unversioned_config: bool | None = None
    enable_certified_public_orbs: bool | None = None
    enable_chunk_ip_ranges: bool | None = None
    enable_minor_ai_features: bool | None = None
    enable_private_orbs: bool | None = None
    enable_uncertified_public_orbs: bool | None = None
    is_bitbucket_workspace_member_org_member: bool | None = None
    is_user_checkout_keys_disabled: bool | None = None
    is_running_disabled: bool | None = None
    enable_image_brownouts: bool | None = None
    is_context_group_restriction_required: bool | None = None
    enable_resource_class_brownouts: bool | None = None


@attrs.frozen(kw_only=True)
class OrgSettings:
    """``GET /orgs/{id}/settings``. [inferred] whether it carries an ``id``."""

    id: str | None = None
    attributes: OrgSettingsAttributes = attrs.Factory(OrgSettingsAttributes)


@attrs.frozen(kw_only=True)
class ProjectAttributes:
    name: str | None = None


@attrs.frozen(kw_only=True)
class ProjectReferences:
    org: NamedRef | None = None


@attrs.frozen(kw_only=True)
class Project:
    id: uuid.UUID
    attributes: ProjectAttributes = attrs.Factory(ProjectAttributes)
    references: ProjectReferences = attrs.Factory(ProjectReferences)


@attrs.frozen(kw_only=True)
class ProjectSettingsAttributes:
    enable_ai_error_summarization: bool | None = None
    enable_auto_cancel_redundant_workflows: bool | None = None
    enable_building_fork_prs: bool | None = None
    is_build_prs_only: bool | None = None
    can_pass_secrets_to_fork_pr_jobs: bool | None = None
    can_set_github_status: bool | None = None
    is_running_disabled: bool | None = None
    is_ssh_disabled: bool | None = None
    enable_dynamic_config: bool | None = None
    is_admin_required_for_writing_settings: bool | None = None
    is_oss: bool | None = None
    enable_unversioned_config: bool | None = None
    pr_only_branch_overrides: list[str] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class ProjectSettings:
    """``GET /projects/{id}/settings``. [inferred] whether it carries an ``id``."""

    id: str | None = None
    attributes: ProjectSettingsAttributes = attrs.Factory(ProjectSettingsAttributes)


# -- runs --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RunError:
    type: str | None = None
    message: str | None = None


@attrs.frozen(kw_only=True)
class RunAttributes:
    """Runs report ``current_outcome`` even after ending (a rerun can change it); ``outcome``
    is read in case it is sent."""

    phase: Phase | None = None
    current_outcome: Outcome | None = None
    outcome: Outcome | None = None
    created_at: dt.datetime | None = None
    number: int | None = None
    errors: list[RunError] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class RunVcsAuthor:
    name: str | None = None
    login: str | None = None


@attrs.frozen(kw_only=True)
class RunVcsCommit:
    subject: str | None = None
    url: str | None = None
    author: RunVcsAuthor | None = None


@attrs.frozen(kw_only=True)
class RunVcs:
    branch: str | None = None
    tag: str | None = None
    revision: str | None = None
    origin_repository_url: str | None = None
    provider_name: str | None = None
    commit: RunVcsCommit | None = None


@attrs.frozen(kw_only=True)
class RunEventAttributes:
    type: str | None = None
    action: str | None = None
    vcs: RunVcs | None = None


@attrs.frozen(kw_only=True)
class RunEvent:
    id: uuid.UUID | None = None
    attributes: RunEventAttributes | None = None


@attrs.frozen(kw_only=True)
class EventSource:
    type: str | None = None


@attrs.frozen(kw_only=True)
class RunTriggerAttributes:
    event_source: EventSource | None = None


@attrs.frozen(kw_only=True)
class RunTrigger:
    id: uuid.UUID | None = None
    attributes: RunTriggerAttributes | None = None


@attrs.frozen(kw_only=True)
class RunUserAttributes:
    login: str | None = None


@attrs.frozen(kw_only=True)
class RunUser:
    id: uuid.UUID | None = None
    attributes: RunUserAttributes | None = None


@attrs.frozen(kw_only=True)
class RunReferences:
    event: RunEvent | None = None
    trigger: RunTrigger | None = None
    project: Ref | None = None
    user: RunUser | None = None


@attrs.frozen(kw_only=True)
class Run:
    """One triggered execution (a v2 *pipeline*)."""

    id: uuid.UUID
    attributes: RunAttributes = attrs.Factory(RunAttributes)
    references: RunReferences = attrs.Factory(RunReferences)


# -- workflows ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WorkflowAttributes:
    name: str | None = None
    phase: Phase | None = None
    outcome: Outcome | None = None
    current_outcome: Outcome | None = None
    created_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class WorkflowReferences:
    run: Ref | None = None
    project: Ref | None = None
    user: Ref | None = None


@attrs.frozen(kw_only=True)
class Workflow:
    id: uuid.UUID
    attributes: WorkflowAttributes = attrs.Factory(WorkflowAttributes)
    references: WorkflowReferences = attrs.Factory(WorkflowReferences)


@attrs.frozen(kw_only=True)
class WorkflowRerun:
    """A rerun's answer: ``id`` is the **new** workflow's."""

    id: uuid.UUID


# -- jobs --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class JobStep:
    num: int | None = None
    name: str | None = None
    type: str | None = None
    phase: Phase | None = None
    outcome: Outcome | None = None
    exit_code: int | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    command: str | None = None
    stdout_bytes: int | None = None
    stderr_bytes: int | None = None


@attrs.frozen(kw_only=True)
class ParallelExecution:
    steps: list[JobStep] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class JobAttributes:
    """A job from ``GET /jobs`` or ``GET /jobs/{id}`` (only the latter carries
    ``parallel_executions``; a queued job has none). The list may say ``started`` with no
    ``started_at`` for a job still waiting for an executor: :attr:`waiting` reads that as
    queued, as the official CLI does."""

    name: str | None = None
    number: int | None = None
    type: str | None = None
    phase: Phase | None = None
    outcome: Outcome | None = None
    current_outcome: Outcome | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    parallel_executions: list[ParallelExecution] = attrs.Factory(list)

    @property
    def waiting(self) -> bool:
        """Not running yet: queued or created, or "started" with no start time."""
        phase = self.phase
        if phase == Phase.STARTED:
            return self.started_at is None
        return phase != Phase.ENDED


@attrs.frozen(kw_only=True)
class JobReferences:
    workflow: Ref | None = None
    project: Ref | None = None
    pipeline: Ref | None = None
    run: Ref | None = None
    user: Ref | None = None


@attrs.frozen(kw_only=True)
class Job:
    id: uuid.UUID
    attributes: JobAttributes = attrs.Factory(JobAttributes)
    references: JobReferences = attrs.Factory(JobReferences)


@attrs.frozen(kw_only=True)
class ArtifactAttributes:
    path: str | None = None
    #: Absolute; fetch it with the client's artifact downloader (credentials per host).
    url: str | None = None
    execution: int | None = None


@attrs.frozen(kw_only=True)
class Artifact:
    """[inferred] whether artifact entries carry an ``id``."""

    id: str | None = None
    attributes: ArtifactAttributes = attrs.Factory(ArtifactAttributes)


# -- tests and resource usage ------------------------------------------------------------------


class TestOutcome(OpenEnum):
    """A test's ``result`` (§2.2: ``success``, ``failure``, ``skipped``, "..."): open, so a
    value added later parses (its ``known`` is false)."""

    __test__ = False  # not a pytest class

    SUCCESS = "success"
    FAILURE = "failure"
    SKIPPED = "skipped"
    ERROR = "error"  # [inferred]: v2's test results have it

    @property
    def failed(self) -> bool:
        """A failure or an error (what ``job tests --failed`` shows)."""
        return self._value_ in ("failure", "error")


@attrs.frozen(kw_only=True)
class TestResult:
    """One line of ``GET /jobs/{id}/tests`` (NDJSON, not an envelope): ``run_time`` is in
    seconds."""

    __test__ = False  # not a pytest class

    classname: str | None = None
    name: str | None = None
    result: TestOutcome | None = None
    run_time: float | None = None
    message: str | None = None
    #: [inferred] v2's results carry the file; v3's may.
    file: str | None = None


@attrs.frozen(kw_only=True)
class ResourceClassUsage:
    name: str | None = None
    cpu_count: float | None = None
    memory_limit_bytes: int | None = None


@attrs.frozen(kw_only=True)
class ResourceUsageExecution:
    """One parallel execution's samples, one every ``interval_ms``. [inferred] the network
    counters are read as per-sample lists, like the CPU and memory ones."""

    execution: int | None = None
    interval_ms: int | None = None
    cpu_cores: list[float] = attrs.Factory(list)
    memory_bytes: list[int] = attrs.Factory(list)
    network_rx_bytes: list[int] = attrs.Factory(list)
    network_tx_bytes: list[int] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class ResourceUsageAttributes:
    resource_class: ResourceClassUsage | None = None
    parallel_executions: list[ResourceUsageExecution] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class ResourceUsage:
    """``GET /jobs/{id}/resource-usage``. [inferred] whether the entity carries an ``id``."""

    id: str | None = None
    attributes: ResourceUsageAttributes = attrs.Factory(ResourceUsageAttributes)
