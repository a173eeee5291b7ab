"""API v3 answers parse tolerantly: unknown members, nulls where objects were expected, and
lifecycle values this library does not know never break reading; the error object and the
deprecation notice are read from plain values."""

from __future__ import annotations

import uuid

import pytest

from circleci_async._deprecation import notice
from circleci_async.errors import DecodeError, ErrorObject, extract_message
from circleci_async.v3._envelope import entity, normalise, normalise_each
from circleci_async.v3.models import Job, Outcome, Phase, Run


def test_unknown_members_nulls_and_new_values_parse() -> None:
    run_id = str(uuid.uuid4())
    answer = {
        "data": {
            "id": run_id,
            "attributes": {"phase": "paused", "current_outcome": None, "brand_new": {"x": 1}},
            "references": None,
            "extra": [1, 2],
        },
        "meta": {"anything": True},
    }
    run = entity(answer, Run, what="test")
    assert str(run.id) == run_id
    assert run.attributes.phase == "paused" and not run.attributes.phase.known
    assert run.attributes.current_outcome is None
    assert run.references.project is None and run.references.event is None
    job = entity({"data": {"id": run_id, "attributes": None}}, Job, what="test")
    assert job.attributes.parallel_executions == [] and job.attributes.waiting


def test_the_jobs_list_quirk_reads_as_waiting() -> None:
    item = normalise({"id": str(uuid.uuid4()), "attributes": {"phase": "started",
                      "started_at": None}})  # fmt: skip
    job = entity({"data": item}, Job, what="test")
    assert job.attributes.phase is Phase.STARTED and job.attributes.waiting
    ended = entity({"data": {"id": item["id"], "attributes": {"phase": "ended",
                    "outcome": "timedout"}}}, Job, what="test")  # fmt: skip
    assert ended.attributes.outcome is Outcome.TIMEDOUT and not ended.attributes.waiting


def test_a_body_without_data_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="no 'data'"):
        entity({"items": []}, Run, what="v3.getRun")


def test_the_error_object_and_its_message() -> None:
    body = {"error": {"type": "validation_error", "id": "req_42", "title": "Invalid page size",
                      "detail": "at most 20", "source": {"pointer": "page[limit]"}}}  # fmt: skip
    error = ErrorObject.from_body(body)
    assert error == ErrorObject("validation_error", "req_42", "Invalid page size",
                                "at most 20", "page[limit]")  # fmt: skip
    assert extract_message(b"", body) == (
        "Invalid page size: at most 20 (at page[limit]) [error id req_42]"
    )
    assert ErrorObject.from_body({"message": "v2 style"}) is None
    assert ErrorObject.from_body({"error": "Policy style"}) is None
    assert ErrorObject.from_body({"error": {"source": None}}) is None
    assert extract_message(b"", {"error": "Policy style"}) == "Policy style"


def test_deprecation_notices() -> None:
    assert notice("op", {}) is None
    assert notice("op", {"Deprecation": "false"}) is None
    text = notice("op", {"Deprecation": "true"})
    assert text is not None and "op is deprecated" in text
    dated = notice("op", {"Sunset": "Wed, 01 Dec 2027 00:00:00 GMT"})
    assert dated is not None and "2027-12-01" in dated
    odd = notice("op", {"Sunset": "soon"})
    assert odd is not None and "soon" in odd


def test_a_page_of_entities_is_normalised_as_each_entity_is() -> None:
    usual = {"id": "a", "attributes": {}, "references": {}}
    odd = [
        {"id": "b", "attributes": None},
        {"id": "c", "references": []},
        {"id": "d", "attributes": {"x": 1}, "references": "?"},
        "not an entity",
    ]
    page = [usual, *odd]
    assert normalise_each(page) == [normalise(item) for item in page]
    assert normalise_each(page)[0] is usual  # the usual entity is taken as it is
