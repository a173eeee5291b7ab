"""The mirror's pure parts: the time parser, path components for long names, manifest lines,
the options object."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import attrs
import pytest

from circleci_async._timespec import parse_time
from circleci_async.cli.errors import CliError, ExitCode
from circleci_async.cli.mirroring import MirrorFilters, parse_when
from circleci_async.download import DownloadOptions, Layout, MirrorOptions, SkipPolicy
from circleci_async.download.manifest import check_record, parse_lines
from circleci_async.download.mirror import mirror_options
from circleci_async.download.paths import short_component
from circleci_async.errors import ConfigurationError

NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_ages(text: str, ago: timedelta) -> None:
    assert parse_time(text, now=NOW) == NOW - ago


def test_datetimes() -> None:
    assert parse_time("2026-03-01") == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_time("2026-03-01T10:00Z") == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert parse_time("2026-03-01T10:00:00+02:00") == datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
    naive = datetime(2026, 3, 1, 10)
    assert parse_time(naive) == naive.replace(tzinfo=timezone.utc)
    paris = datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=1)))
    assert parse_time(paris) == datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    assert parse_time(None) is None


@pytest.mark.parametrize("text", ["yesterday", "1x", "", "h", "-1h", "7 days", "1e3d", "12"])
def test_anything_else_is_a_configuration_error_naming_the_forms(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"since .*ISO 8601.*30m, 12h, 7d, 2w"):
        parse_time(text, what="since")


def test_a_wrong_type_and_an_absurd_age_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="got a int"):
        parse_time(3600, what="since")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="too large"):
        parse_time("99999999999w", what="since")


def test_the_cli_uses_the_same_parser_with_a_usage_error() -> None:
    assert parse_when("7d", option="--since", now=NOW) == parse_time("7d", now=NOW)
    with pytest.raises(CliError) as raised:
        parse_when("1x", option="--until")
    assert raised.value.code is ExitCode.USAGE
    assert raised.value.message.startswith("--until '1x': expected")


def test_short_component_keeps_short_names_and_the_suffix() -> None:
    assert short_component("test", suffix="-12") == "test-12"
    assert short_component("a/b", suffix="-1") == "a_b-1"
    assert short_component("", suffix="-1") == "_-1"


def test_short_component_hashes_names_it_cuts() -> None:
    prefix = "é" * 60
    names = [prefix + c * 80 for c in "abcd"]
    parts = [short_component(n, suffix="-7") for n in names]
    assert len(set(parts)) == 4
    for part in parts:
        assert len(part.encode()) <= 120
        assert part.endswith("-7") and part[-11] == "~"
        assert part.startswith("é" * 50)
    assert short_component(names[0], suffix="-7") == parts[0]  # stable across runs
    assert len(short_component("x" * 500).encode()) == 120


def test_manifest_records_are_checked_field_by_field() -> None:
    good = {
        "v": 1,
        "type": "file",
        "job_number": 3,
        "node_index": 0,
        "path": "a",
        "status": "downloaded",
        "file": "1/b/t-3/a",
        "url": "https://x",
        "size": 1,
        "pipeline": 1,
    }
    assert check_record(good) is None
    assert check_record({**good, "node_index": "0"}) == "node_index is missing or of the wrong type"
    assert check_record({**good, "job_number": True}) is not None
    assert check_record({**good, "v": 2}) is not None
    assert check_record({**good, "type": "dir"}) is not None
    assert check_record([good]) == "not a JSON object"
    job = {"v": 1, "type": "job", "job_number": 3, "status": "complete", "files": 1}
    assert check_record({**job, "filters": "abc"}) is None
    assert check_record(job) == "filters is missing or of the wrong type"


def test_bad_manifest_lines_name_the_jobs_they_belong_to() -> None:
    good = {"v": 1, "type": "job", "job_number": 1, "status": "c", "files": 0, "filters": "f"}
    data = b"".join(
        [
            json.dumps(good).encode() + b"\n",
            b'{"v":1,"type":"file","job":"x\\"job_number\\":9","job_number":42,"node_index":"0"}\n',
            b"\n",
            b'{"v": 1, "type": "file", "job_number": 77, "pa',
        ]
    )
    read = parse_lines(data)
    assert read.records == [good]
    assert [number for number, _ in read.bad] == [2, 4]
    assert read.suspect_jobs == {42, 77}


def test_options_are_declared_once_and_evolved() -> None:
    options = MirrorOptions(since="2026-03-01", workflow="build", include=["**/*.xml"])
    assert options.since == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert options.workflow == ("build",) and options.include == ("**/*.xml",)
    assert options.skip is SkipPolicy.IF_PRESENT and options.layout is Layout.AUTO
    changed = mirror_options(options, skip="overwrite", layout="per-node")
    assert changed.skip is SkipPolicy.OVERWRITE and changed.since == options.since
    assert mirror_options(None) == MirrorOptions()
    tuning = DownloadOptions()
    assert mirror_options(tuning).download is tuning  # the options= of before
    assert MirrorFilters is MirrorOptions  # the CLI builds the library's options
    assert all(f.default is not attrs.NOTHING for f in attrs.fields(MirrorOptions))
    with pytest.raises(ConfigurationError, match="unknown mirror option"):
        mirror_options(None, progress=None)
    with pytest.raises(ConfigurationError, match="skip must be one of"):
        MirrorOptions(skip="sometimes")
    with pytest.raises(ConfigurationError, match="list_concurrency must be >= 1"):
        MirrorOptions(list_concurrency=0)
