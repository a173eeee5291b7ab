"""The models and their converter: what CircleCI's JSON becomes, and what request bodies look
like. Pure: no server."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import uuid
import weakref
from typing import Any

import attrs
import pytest

from circleci_async import DecodeError
from circleci_async import models as m
from circleci_async.models import UNSET, structure, structure_each, unstructure
from circleci_async.models._base import nullable_key
from circleci_async.v3.models import Run, RunAttributes

PIPELINE: dict[str, Any] = {
    "id": "5034460f-c7c4-4c43-9457-de07e2029e7b",
    "errors": [{"type": "config", "message": "bad yaml"}],
    "project_slug": "gh/acme/widgets",
    "updated_at": "2026-01-01T00:00:01.5Z",
    "number": 42,
    "state": "created",
    "created_at": "2026-01-01T00:00:00.000Z",
    "trigger": {
        "type": "webhook",
        "received_at": "2026-01-01T00:00:00Z",
        "actor": {"login": "octo", "avatar_url": None},
    },
    "vcs": {
        "provider_name": "GitHub",
        "origin_repository_url": "https://github.com/acme/widgets",
        "target_repository_url": "https://github.com/acme/widgets",
        "revision": "f" * 40,
        "branch": "main",
        "commit": {"subject": "Fix", "body": None},
    },
    "trigger_parameters": {"deploy": True, "n": 3, "env": "prod", "webhook": {"body": "x"}},
}


def test_pipeline_types() -> None:
    p = structure(PIPELINE, m.Pipeline)
    assert p.id == uuid.UUID(PIPELINE["id"])
    assert p.state is m.PipelineState.CREATED
    assert p.created_at == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert p.updated_at == dt.datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=dt.timezone.utc)
    assert p.trigger.type is m.TriggerType.WEBHOOK and p.trigger.actor.avatar_url is None
    assert p.errors == [m.PipelineError(type=m.PipelineErrorType.CONFIG, message="bad yaml")]
    assert p.vcs is not None and p.vcs.commit == m.Commit(subject="Fix", body=None)
    assert p.vcs.tag is None and p.vcs.review_id is None
    assert p.trigger_parameters == {"deploy": True, "n": 3, "env": "prod", "webhook": {"body": "x"}}


def test_models_are_frozen_and_slotted() -> None:
    p = structure(PIPELINE, m.Pipeline)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        p.number = 1  # type: ignore[misc]
    assert not hasattr(p, "__dict__")


def test_unknown_fields_are_ignored_and_optional_ones_default() -> None:
    data = {**PIPELINE, "brand_new_field": {"x": 1}}
    data["trigger"] = {**data["trigger"], "also_new": []}
    del data["vcs"], data["updated_at"], data["trigger_parameters"], data["errors"]
    p = structure(data, m.Pipeline)
    assert p.vcs is None and p.updated_at is None and p.trigger_parameters is None
    assert p.errors == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T00:00:00Z", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)),
        (
            "2026-01-01T00:00:00.123Z",
            dt.datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=dt.timezone.utc),
        ),
        ("2026-01-01T05:30:00+05:30", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)),
        ("2026-01-01T00:00:00", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)),  # naive: UTC
        (
            "2026-01-01t00:00:00.1234z",
            dt.datetime(2026, 1, 1, 0, 0, 0, 123400, tzinfo=dt.timezone.utc),
        ),
    ],
)
def test_datetimes_become_aware(text: str, expected: dt.datetime) -> None:
    parsed = structure(
        {"id": str(uuid.uuid4()), "name": "c", "created_at": text}, m.Context
    ).created_at
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize(
    "value",
    [
        "5034460F-C7C4-4C43-9457-DE07E2029E7B",
        "{5034460f-c7c4-4c43-9457-de07e2029e7b}",
        "urn:uuid:5034460f-c7c4-4c43-9457-de07e2029e7b",
        "5034460fc7c44c439457de07e2029e7b",
    ],
)
def test_uuid_spellings(value: str) -> None:
    assert structure({"workflow_id": value}, m.RerunWorkflowResult).workflow_id == uuid.UUID(
        "5034460f-c7c4-4c43-9457-de07e2029e7b"
    )


@pytest.mark.parametrize(
    "value",
    [
        "5034460f-c7c4-4c43-9457-de07e2029e7g",
        "5034460f-c7c4-4c43-9457-de07e2029e7",
        "5034460f c7c4 4c43 9457 de07e2029e7b",  # 36 characters, spaces for dashes
        "5034460fc7c44c439457de07e2029e7b0000",  # 36 hex digits
        "nope",
        7,
    ],
)
def test_bad_uuids_are_decode_errors(value: object) -> None:
    with pytest.raises(DecodeError, match=r"\$\.workflow_id"):
        structure({"workflow_id": value}, m.RerunWorkflowResult)


def test_unknown_enum_values_are_kept() -> None:
    workflow = {
        "id": str(uuid.uuid4()),
        "name": "build",
        "pipeline_id": str(uuid.uuid4()),
        "pipeline_number": 1,
        "project_slug": "gh/a/b",
        "status": "quarantined",
        "started_by": str(uuid.uuid4()),
        "created_at": "2026-01-01T00:00:00Z",
    }
    w = structure(workflow, m.Workflow)
    assert w.status == "quarantined" and str(w.status) == "quarantined"
    assert isinstance(w.status, m.WorkflowStatus)
    assert not w.status.known and not w.status.terminal
    assert m.WorkflowStatus.SUCCESS.known and m.WorkflowStatus.SUCCESS.terminal
    assert m.WorkflowStatus("quarantined") == m.WorkflowStatus("quarantined")
    assert m.JobStatus("terminated-unknown").terminal and not m.JobStatus.ON_HOLD.terminal
    with pytest.raises(DecodeError, match=r"\$\.status"):
        structure({**workflow, "status": 3}, m.Workflow)


def test_dashed_keys_are_renamed_both_ways() -> None:
    schedule = {
        "id": str(uuid.uuid4()),
        "name": "nightly",
        "timetable": {"per-hour": 1, "hours-of-day": [3], "days-of-week": ["MON", "FUNDAY"]},
        "project-slug": "gh/a/b",
        "parameters": {"branch": "main"},
        "actor": {"id": str(uuid.uuid4()), "login": "l", "name": "n", "avatar_url": None},
        "created-at": "2026-01-01T00:00:00Z",
        "updated-at": "2026-01-02T00:00:00Z",
        "description": None,
    }
    s = structure(schedule, m.Schedule)
    assert s.project_slug == "gh/a/b" and s.timetable.hours_of_day == [3]
    assert s.timetable.days_of_week == [m.DayOfWeek.MON, "FUNDAY"]
    assert unstructure(s.timetable) == {
        "per-hour": 1,
        "hours-of-day": [3],
        "days-of-week": ["MON", "FUNDAY"],
    }
    flaky = structure(
        {
            "flaky-tests": [
                {
                    "test-name": "t",
                    "job-name": "j",
                    "job-number": 3,
                    "workflow-name": "w",
                    "workflow-id": "wid",
                    "workflow-created-at": "2026-01-01",
                    "pipeline-number": 2,
                    "times-flaked": 4,
                    "classname": None,
                    "source": None,
                    "file": None,
                }
            ],
            "total-flaky-tests": 1,
        },
        m.FlakyTests,
    )
    assert flaky.flaky_tests[0].times_flaked == 4 and flaky.total_flaky_tests == 1.0


def test_request_bodies_send_only_what_was_set() -> None:
    assert unstructure(m.AdvancedSettings(oss=True)) == {"oss": True}
    assert unstructure(m.ConfigSource(provider="circleci", file_path="x.yml")) == {
        "provider": "circleci",
        "file_path": "x.yml",
    }

    @attrs.frozen(kw_only=True)
    class Patch:
        name: str | None = None
        description: str | object | None = attrs.field(default=UNSET, metadata=nullable_key())
        when: dt.datetime | None = None

    assert unstructure(Patch()) == {}
    assert unstructure(Patch(description=None)) == {"description": None}
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert unstructure(Patch(name="n", when=moment)) == {"name": "n", "when": moment.isoformat()}


def test_decode_error_names_operation_and_field_path() -> None:
    bad = {**PIPELINE, "trigger": {**PIPELINE["trigger"], "received_at": "yesterday"}}
    with pytest.raises(DecodeError) as info:
        structure(bad, m.Pipeline, what="getPipelineById")
    message = str(info.value)
    assert "getPipelineById" in message and "$.trigger.received_at" in message
    assert info.value.__cause__ is not None
    with pytest.raises(DecodeError, match=r"required field missing @ \$\.number"):
        structure({k: v for k, v in PIPELINE.items() if k != "number"}, m.Pipeline)
    with pytest.raises(DecodeError, match=r"\$\.trigger_parameters"):
        structure({**PIPELINE, "trigger_parameters": {"x": [1]}}, m.Pipeline)
    with pytest.raises(DecodeError, match="cannot read"):
        structure([1, 2], m.Pipeline)


def test_a_page_of_items_is_read_as_each_item_is() -> None:
    """``structure_each`` (a walk's page at once) gives what ``structure`` gives per item, and
    fails as it fails: on the first item that does not parse, naming its field."""
    other = {**PIPELINE, "number": 7}
    built = structure_each([PIPELINE, other], m.Pipeline, what="listPipelines")
    assert built == [structure(PIPELINE, m.Pipeline), structure(other, m.Pipeline)]
    assert structure_each([], m.Pipeline) == []
    bad = {**PIPELINE, "trigger": {**PIPELINE["trigger"], "received_at": "yesterday"}}
    with pytest.raises(DecodeError) as info:
        structure_each([PIPELINE, bad, {"not": "a pipeline"}], m.Pipeline, what="listPipelines")
    message = str(info.value)
    assert "listPipelines" in message and "$.trigger.received_at" in message


def test_lists_and_maps_of_models() -> None:
    logs = structure(
        [{"id": str(uuid.uuid4()), "decision": {"status": "PASS"}, "policies": {"a": "h"}}],
        list[m.DecisionLog],
    )
    assert logs[0].decision == m.Decision(status="PASS")
    bundle = structure({"p": [{"name": "p", "content": "package x"}]}, m.PolicyBundle)
    assert bundle["p"][0].content == "package x"


def test_context_variable_or_message() -> None:
    union: Any = m.ContextEnvironmentVariable | m.MessageResponse
    var = structure(
        {
            "variable": "X",
            "context_id": str(uuid.uuid4()),
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
        union,
    )
    assert isinstance(var, m.ContextEnvironmentVariable)
    assert structure({"message": "ok"}, union) == m.MessageResponse(message="ok")


def test_models_package_loads_lazily() -> None:
    assert m.Webhook.__name__ == "Webhook"
    assert "Webhook" in dir(m)
    with pytest.raises(AttributeError, match="NoSuchModel"):
        _ = m.NoSuchModel  # type: ignore[attr-defined]


def test_the_fast_path_builds_what_the_constructors_build() -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    expected = m.Pipeline(
        id=uuid.UUID(PIPELINE["id"]),
        number=42,
        project_slug="gh/acme/widgets",
        state=m.PipelineState.CREATED,
        created_at=when,
        trigger=m.TriggerInfo(
            type=m.TriggerType.WEBHOOK, received_at=when, actor=m.Actor(login="octo")
        ),
        errors=[m.PipelineError(type=m.PipelineErrorType.CONFIG, message="bad yaml")],
        updated_at=when + dt.timedelta(seconds=1.5),
        trigger_parameters=PIPELINE["trigger_parameters"],
        vcs=m.PipelineVcs(
            provider_name="GitHub",
            origin_repository_url="https://github.com/acme/widgets",
            target_repository_url="https://github.com/acme/widgets",
            revision="f" * 40,
            branch="main",
            commit=m.Commit(subject="Fix"),
        ),
    )
    built = structure(PIPELINE, m.Pipeline)
    assert built == expected and repr(built) == repr(expected)
    assert built.state is m.PipelineState.CREATED and built.id.version == 4
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.number = 1  # type: ignore[misc]
    # Scalars of the wrong JSON type are converted as cattrs does; a missing list defaults.
    loose = structure({**PIPELINE, "number": "42", "errors": []}, m.Pipeline)
    assert loose.number == 42 and loose.errors == []
    bare = {k: v for k, v in PIPELINE.items() if k not in ("errors", "vcs", "updated_at")}
    assert structure(bare, m.Pipeline).errors == []


@pytest.mark.parametrize("value", [7, None, "yesterday"])
def test_bad_datetimes_are_decode_errors(value: object) -> None:
    with pytest.raises(DecodeError, match=r"\$\.created_at"):
        structure({**PIPELINE, "created_at": value}, m.Pipeline)


def test_a_hook_registered_later_is_used_by_structure() -> None:
    @attrs.frozen
    class Late:
        n: int

    assert structure({"n": 1}, Late) == Late(n=1)  # the generated hook, now cached
    m.converter.register_structure_hook(Late, lambda data, _: Late(n=data["n"] * 10))
    assert structure({"n": 1}, Late) == Late(n=10)


@attrs.frozen
class Inner:
    n: int


@attrs.frozen
class Outer:
    inner: Inner
    maybe: Inner | None = None


def test_a_nested_model_with_a_hook_of_its_own_goes_through_it() -> None:
    m.converter.register_structure_hook(Inner, lambda data, _: Inner(n=int(data) * 2))
    assert structure({"inner": 4, "maybe": "5"}, Outer) == Outer(inner=Inner(8), maybe=Inner(10))


def test_nested_models_written_inline_still_fail_with_their_path() -> None:
    broken = {**PIPELINE, "vcs": {**PIPELINE["vcs"], "commit": {"subject": ["not", "text"]}}}
    with pytest.raises(DecodeError, match=r"\$\.vcs\.commit\.subject"):
        structure(broken, m.Pipeline)
    missing = {**PIPELINE, "trigger": {**PIPELINE["trigger"], "actor": {}}}
    with pytest.raises(DecodeError, match=r"\$\.trigger\.actor\.login"):
        structure(missing, m.Pipeline)
    with pytest.raises(DecodeError, match=r"\$\.vcs"):
        structure({**PIPELINE, "vcs": "github"}, m.Pipeline)


@pytest.mark.parametrize(
    ("field", "value"),
    [("path", None), ("path", ["a"]), ("path", True), ("node_index", None), ("node_index", "x")],
)
def test_scalars_are_not_made_up_from_nulls_or_containers(field: str, value: object) -> None:
    """``str(None)`` would turn an artifact listed with ``"path": null`` into a file named
    ``None``; a wrong-typed scalar fails the item (which then fails alone) instead."""
    item = {"path": "junit.xml", "node_index": 0, "url": "https://example.com/a", field: value}
    with pytest.raises(DecodeError, match=rf"\$\.{field}"):
        structure(item, m.Artifact)


def test_numbers_are_still_read_as_text_where_text_is_expected() -> None:
    item = {"path": 1234, "node_index": 0, "url": "https://example.com/a"}
    assert structure(item, m.Artifact).path == "1234"


_ID = "5034460f-c7c4-4c43-9457-de07e2029e7b"


@pytest.mark.parametrize(
    "text",
    [
        _ID,
        _ID.upper(),
        _ID.replace("-", ""),
        "--" + _ID.replace("-", "") + "--",  # dashes anywhere
        "{" + _ID + "}",
        "urn:uuid:" + _ID,
        " " + _ID[1:],  # whitespace, signs, prefixes, underscores: what ``int`` takes
        _ID[:-1] + "\n",
        "+" + _ID[1:],
        "0x" + _ID[2:],
        _ID[:8] + "_" + _ID[9:],
        "\u0665" + _ID[1:],  # a non-ASCII digit
        _ID[:4] + "\t" + _ID[5:],
        _ID[:-1],
        _ID + "0",
        _ID[:-1] + "g",
        "-" + _ID[:-1],
        "x" * 36,
        "",
    ],
)
def test_uuid_text_reads_as_uuid_uuid_reads_it(text: str) -> None:
    """The shortcuts (the generated code's and the hook's) give exactly ``uuid.UUID(text)``'s
    answer, or refuse where it refuses, through every way a UUID field is read."""
    try:
        expected: uuid.UUID | None = uuid.UUID(text)
    except ValueError:
        expected = None
    run = {"id": _ID, "attributes": {}, "references": {"user": {"id": text}}}
    readers = [
        lambda: structure({"workflow_id": text}, m.RerunWorkflowResult).workflow_id,
        lambda: structure({**PIPELINE, "id": text}, m.Pipeline).id,
        lambda: structure({"id": text}, m.PipelineRun).id,  # optional, at the top
        lambda: structure(run, Run).references.user.id,  # optional, nested
        lambda: structure(text, uuid.UUID),  # the converter's hook itself
    ]
    for read in readers:
        if expected is None:
            with pytest.raises(DecodeError):
                read()
            continue
        got = read()
        assert type(got) is uuid.UUID and got == expected and got.is_safe is expected.is_safe
        assert hash(got) == hash(expected) and str(got) == str(expected)
        assert pickle.loads(pickle.dumps(got)) == expected  # noqa: S301 - our own bytes
        with pytest.raises(TypeError):
            got.int = 1  # type: ignore[misc]


def test_built_objects_are_exactly_the_models() -> None:
    """Fields are filled through builder subclasses; none of those may escape."""
    built = structure(PIPELINE, m.Pipeline)
    assert built.vcs is not None and built.vcs.commit is not None
    parts = [built, built.trigger, built.trigger.actor, built.vcs, built.vcs.commit, *built.errors]
    for part, cls in zip(
        parts,
        [m.Pipeline, m.TriggerInfo, m.Actor, m.PipelineVcs, m.Commit, m.PipelineError],
        strict=True,
    ):
        assert type(part) is cls and part.__class__ is cls
        assert weakref.ref(part)() is part and not hasattr(part, "__dict__")
        assert pickle.loads(pickle.dumps(part)) == part  # noqa: S301 - our own bytes
        assert copy.copy(part) == part
        first = attrs.fields(cls)[0].name
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(part, first, None)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            delattr(part, first)
    actor = built.trigger.actor
    assert hash(actor) == hash(m.Actor(login="octo")) and {actor: 1}[m.Actor(login="octo")] == 1
    assert attrs.evolve(actor, login="cat") == m.Actor(login="cat")
    assert type(built.id) is uuid.UUID and built.id.is_safe is uuid.SafeUUID.unknown
    run = structure(
        {"id": _ID, "attributes": {"phase": "created"}, "references": {"project": {"id": _ID}}},
        Run,
    )
    assert type(run) is Run and type(run.attributes) is RunAttributes
    assert run.references.project is not None and type(run.references.project.id) is uuid.UUID
