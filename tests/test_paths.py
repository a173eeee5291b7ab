"""Safe paths and the download plan: pure functions, no I/O."""

from __future__ import annotations

import os
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circleci_async.download import (
    ArtifactRef,
    Layout,
    PathConflictError,
    SkipPolicy,
    UnsafePathError,
)
from circleci_async.download.errors import DownloadError
from circleci_async.download.paths import (
    MAX_COMPONENT_BYTES,
    collision_key,
    is_temporary_name,
    is_within,
    safe_component,
    safe_relative_path,
)
from circleci_async.download.plan import (
    compile_filter,
    compile_globs,
    matches,
    plan_downloads,
    skip_reason,
)

URL = "https://output.circle-artifacts.com/output/job/j/artifacts/0/x"

TRAVERSAL_CORPUS = [
    "../x",
    "/etc/x",
    "a/../../x",
    "a/../b",
    "..",
    "a/..",
    "C:\\x",
    "C:x",
    "c:/x",
    "a\0b",
    "\\\\server\\share\\x",
    "\\x",
    "a\\..\\..\\x",
    "",
    ".",
    "./",
    "a/\x1b[31mred",
    "a\nb",
    "bad\ud800surrogate",
    "x" * (MAX_COMPONENT_BYTES + 1),
    "d/" + "日" * 100,  # 300 bytes in UTF-8
    "results.cci-partial",
    "a/results.cci-partial.json",
]


@pytest.mark.parametrize("raw", TRAVERSAL_CORPUS)
def test_traversal_corpus_is_refused(raw: str) -> None:
    with pytest.raises(UnsafePathError) as info:
        safe_relative_path(raw, windows=False)
    assert info.value.path == raw
    assert str(info.value)  # a clear message naming the path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a/b.txt", "a/b.txt"),
        ("./a//b/", "a/b"),
        ("a\\b\\c.xml", "a/b/c.xml"),
        ("résumé/日本語.txt", "résumé/日本語.txt"),
        ("emoji/🚀.log", "emoji/🚀.log"),
        ("x" * MAX_COMPONENT_BYTES, "x" * MAX_COMPONENT_BYTES),
        ("ab:c/d", "ab:c/d"),  # a colon is fine on POSIX; only a leading drive is refused
        ("...", "..."),
        ("a..b/..c", "a..b/..c"),
    ],
)
def test_safe_paths_are_normalised(raw: str, expected: str) -> None:
    assert safe_relative_path(raw, windows=False) == expected


@pytest.mark.parametrize(
    "raw", ["CON", "a/nul.txt", "com1", "ab:c", "what?", "trail.", "trail ", "LPT9.log"]
)
def test_windows_rules(raw: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_relative_path(raw, windows=True)


def test_non_string_paths_are_refused() -> None:
    with pytest.raises(UnsafePathError, match="not a string"):
        safe_relative_path(None)


@given(st.text(max_size=60))
def test_any_accepted_path_stays_inside(raw: str) -> None:
    try:
        relative = safe_relative_path(raw, windows=False)
    except UnsafePathError:
        return
    parts = relative.split("/")
    assert ".." not in parts and "" not in parts and "." not in parts
    assert not relative.startswith("/")
    joined = posixpath.normpath(posixpath.join("/root/dest", relative))
    assert joined.startswith("/root/dest/")


def test_is_within() -> None:
    root = os.path.abspath("/data/dest")
    assert is_within(root, root)
    assert is_within(root, os.path.join(root, "a", "b"))
    assert not is_within(root, os.path.abspath("/data/destination"))
    assert not is_within(root, os.path.abspath("/data"))


def test_safe_component() -> None:
    assert safe_component("build / test") == "build _ test"
    assert safe_component("..") == "_"
    assert safe_component("") == "_"
    assert safe_component("a\\b:c") == "a_b_c"
    assert safe_component("CON") == "_CON"
    assert len(safe_component("x" * 500).encode()) <= 120
    assert safe_component(42) == "42"


def test_collision_key_folds_case_and_normal_form() -> None:
    assert collision_key("Report.TXT") == collision_key("report.txt")
    assert collision_key("e\u0301") == collision_key("\u00e9")


# -- the plan ------------------------------------------------------------------------------------


def art(path: object, node: object = 0, url: object = URL) -> ArtifactRef:
    return ArtifactRef(path, node, url)  # type: ignore[arg-type]


def test_auto_layout_moves_every_shared_path_to_node_dirs() -> None:
    plan = plan_downloads(
        [art("out/r.xml", 0), art("out/r.xml", 1), art("only0.txt", 0), art("Out/R.xml", 2)]
    )
    assert [p.relative for p in plan] == [
        "node-0/out/r.xml",
        "node-1/out/r.xml",
        "only0.txt",
        "node-2/Out/R.xml",  # collides on case-insensitive file systems, so kept apart too
    ]


def test_layout_does_not_depend_on_filters() -> None:
    items = [art("a.xml", 0), art("a.xml", 1), art("b.log", 0)]
    assert [p.relative for p in plan_downloads(items, include=["*.xml"])] == [
        "node-0/a.xml",
        "node-1/a.xml",
    ]
    assert [p.relative for p in plan_downloads(items, exclude=["*.xml"])] == ["b.log"]


def test_per_node_and_flat_layouts() -> None:
    items = [art("x", 0), art("x", 1), art("y", 1)]
    assert [p.relative for p in plan_downloads(items, layout=Layout.PER_NODE)] == [
        "node-0/x",
        "node-1/x",
        "node-1/y",
    ]
    flat = plan_downloads(items, layout=Layout.FLAT)
    assert [p.relative for p in flat] == [None, None, "y"]
    assert all(isinstance(p.error, PathConflictError) for p in flat[:2])


def test_literal_node_dir_conflict_and_file_directory_conflict() -> None:
    plan = plan_downloads([art("x", 0), art("x", 1), art("node-1/x", 0)])
    assert plan[2].relative is None and isinstance(plan[2].error, PathConflictError)
    plan = plan_downloads([art("a", 0), art("a/b", 0)])
    assert plan[0].relative == "a"
    assert plan[1].relative is None and isinstance(plan[1].error, PathConflictError)


def test_duplicates_and_invalid_items() -> None:
    other = URL.replace("/x", "/y")
    plan = plan_downloads(
        [
            art("a"),
            art("a"),
            art("a", url=other),
            art("b", node=-1),
            art("c", node=True),
            art("d", url="ftp://host/d"),
            art("e", url=None),
            art("../f"),
        ]
    )
    assert plan[0].relative == "a"
    assert plan[1].duplicate_of == 0
    assert isinstance(plan[2].error, PathConflictError)
    for entry in plan[3:7]:
        assert isinstance(entry.error, DownloadError) and entry.relative is None
    assert isinstance(plan[7].error, UnsafePathError)


GLOBS = [
    # pattern, path, expected
    ("**/*.xml", "junit.xml", True),  # ** matches no directory too (the README's example)
    ("**/*.xml", "a/b/junit.xml", True),
    ("**/*.xml", "a/b/junit.txt", False),
    ("*.xml", "junit.xml", True),
    ("*.xml", "reports/junit.xml", False),  # * stays within one segment
    ("reports/*", "reports/junit.xml", True),
    ("reports/*", "reports/unit/junit.xml", False),
    ("reports/**", "reports/unit/junit.xml", True),
    ("a/**/b", "a/b", True),  # ** in the middle: zero segments
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "ab", False),
    ("a*b", "a/b", False),
    ("?.log", "a.log", True),
    ("?.log", "/.log", False),
    ("?.log", "ab.log", False),
    ("*", ".env", True),  # dot files are not special
    ("**/*.xml", ".hidden/junit.xml", True),
    ("[ab].txt", "a.txt", True),
    ("[ab].txt", "c.txt", False),
    ("[a-c]?.txt", "b1.txt", True),
    ("[!a].txt", "a.txt", False),
    ("[!a].txt", "z.txt", True),
    ("*.XML", "junit.xml", False),  # case-sensitive on every platform
    ("build*", "build-linux", True),  # a workflow or job name: no / at all
    ("build*", "test", False),
    (r"a\*b", "a*b", True),  # \ escapes
    (r"a\*b", "axb", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), GLOBS)
def test_glob_rules(pattern: str, path: str, expected: bool) -> None:
    assert matches(path, [pattern], []) is expected
    assert compile_globs([pattern])(path) is expected
    assert compile_globs(["never-matches", pattern])(path) is expected  # any of several


def test_exclude_beats_include_and_no_include_keeps_everything() -> None:
    keep = compile_filter(["**/*.xml"], ["**/skip/**", "flaky-*.xml"])
    assert keep("junit.xml")
    assert keep("a/junit.xml")
    assert not keep("a/skip/junit.xml")
    assert not keep("flaky-1.xml")
    assert keep("a/flaky-1.xml")  # flaky-*.xml is top-level only
    assert not keep("junit.txt")
    assert compile_filter([], ["*.log"])("anything/at/all.bin")
    assert not compile_filter([], ["*.log"])("a.log")
    assert compile_filter([], [])("x")
    assert not compile_globs([])("x")


def test_plan_filters_with_the_glob_rules() -> None:
    artifacts = [
        ArtifactRef(path, 0, URL + "/" + path)
        for path in ("junit.xml", "reports/unit/junit.xml", "reports/skip.xml", "build.log")
    ]
    planned = plan_downloads(artifacts, include=["**/*.xml"], exclude=["reports/skip.xml"])
    assert [p.relative for p in planned] == ["junit.xml", "reports/unit/junit.xml"]


def test_skip_reason() -> None:
    assert skip_reason(SkipPolicy.OVERWRITE, 10) is None
    assert skip_reason(SkipPolicy.IF_PRESENT, None) is None
    assert skip_reason(SkipPolicy.IF_PRESENT, 0) == "present"
    assert skip_reason(SkipPolicy.IF_SIZE_MATCHES, 10) is None  # not known yet: ask the server
    assert skip_reason(SkipPolicy.IF_SIZE_MATCHES, 10, 10) == "size-matches"
    assert skip_reason(SkipPolicy.IF_SIZE_MATCHES, 10, 11) is None


def test_temporary_names() -> None:
    assert is_temporary_name("junit.xml.0123abcd.cci-partial")
    assert is_temporary_name("a.ffffffff.cci-partial")
    assert not is_temporary_name("junit.xml.cci-partial")  # the resumable one: not garbage
    assert not is_temporary_name("junit.xml.cci-partial.json")
    assert not is_temporary_name(".0123abcd.cci-partial")  # no name before it
    assert not is_temporary_name("a.0123ABCD.cci-partial")
    assert not is_temporary_name("a.0123abc.cci-partial")
    assert not is_temporary_name("a.0123abcd.cci-partial.x")
    # An artifact can never be named like one: the plan refuses the suffixes.
    with pytest.raises(UnsafePathError):
        safe_relative_path("x/a.0123abcd.cci-partial")
