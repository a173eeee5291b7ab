"""Pagination state without I/O."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from circleci_async.errors import ConfigurationError, PaginationError
from circleci_async.pagination import AsyncPaginator, Page, PageCursor, _page


def test_walk_ends_on_null_or_empty_token() -> None:
    for end in (None, ""):
        c = PageCursor()
        c.page_fetched("a")
        assert c.token == "a" and not c.done
        c.page_fetched(end)
        assert c.exhausted and c.token is None and c.pages_fetched == 2


def test_repeated_token_raises() -> None:
    c = PageCursor()
    c.page_fetched("a")
    c.page_fetched("b")
    with pytest.raises(PaginationError, match="second time"):
        c.page_fetched("a")


def test_starting_token_counts_as_seen() -> None:
    c = PageCursor(page_token="start")
    with pytest.raises(PaginationError):
        c.page_fetched("start")


def test_non_string_token_is_an_error() -> None:
    with pytest.raises(PaginationError, match="not a string"):
        PageCursor().page_fetched(12)


def test_max_items_allowance() -> None:
    c = PageCursor(max_items=5)
    assert c.allowance(3) == 3
    c.yielded(3)
    assert not c.truncated
    assert c.allowance(20) == 2
    c.yielded(2)
    assert c.truncated and c.done


def test_max_items_reached_on_last_page_is_not_truncation() -> None:
    c = PageCursor(max_items=3)
    c.page_fetched(None)
    c.yielded(3)
    assert c.exhausted and not c.truncated


def test_negative_max_items_rejected() -> None:
    with pytest.raises(ValueError, match="max_items"):
        PageCursor(max_items=-1)


def test_pages_built_directly_are_the_pages_attrs_builds() -> None:
    """A walk builds its pages through the slots (``pagination._page``): that is only the same
    as ``Page(...)`` while Page has nothing that its __init__ would run."""
    assert not hasattr(Page, "__attrs_post_init__")
    assert all(f.validator is None and f.converter is None for f in attrs.fields(Page))
    raw = {"items": [1], "next_page_token": "b"}
    built = _page([1], "b", "a", raw)
    assert built == Page([1], "b", "a", raw) and built.raw is raw
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.items = []  # type: ignore[misc]


async def test_items_are_converted_per_item_or_per_page() -> None:
    """``convert`` (one item) and ``convert_items`` (a page's) give the same walk; both at once
    is refused."""
    pages = {None: {"items": [1, 2], "next_page_token": "b"}, "b": {"items": [3]}}

    async def fetch(token: str | None) -> Any:
        return pages[token]

    per_item = AsyncPaginator(fetch, convert=lambda item: item * 10)
    per_page = AsyncPaginator(fetch, convert_items=lambda items: [i * 10 for i in items])
    assert await per_item.collect() == await per_page.collect() == [10, 20, 30]
    with pytest.raises(ConfigurationError):
        AsyncPaginator(fetch, convert=str, convert_items=list)
