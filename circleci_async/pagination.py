"""Async iteration over CircleCI's pages: API v2's ``{items, next_page_token}`` and API v3's
``{data, page: {next, prev}}`` cursors.

:class:`PageCursor` is the pure state of a walk (which token comes next, when to stop, loop
detection, the item limit); :class:`AsyncPaginator` adds the fetching. The page parameters and
the response envelopes are named in this module only: a :class:`PageStyle` says where a page's
items and next token are (:data:`V2_PAGES`, :data:`V3_PAGES`), and the caller's fetch function
sends the token (v2 ``page-token``; v3 ``page[cursor]`` in the query, or ``page.cursor`` in the
body of a search POST; see :func:`v3_query` and :func:`v3_body`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import operator
import types
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Mapping
from typing import Any, Generic, TypeVar

import attrs

from .errors import CircleCIError, ConfigurationError, PaginationError

__all__ = [
    "PAGE_TOKEN_PARAM",
    "V2_PAGES",
    "V3_CURSOR_PARAM",
    "V3_LIMIT_PARAM",
    "V3_PAGES",
    "AsyncPaginator",
    "Page",
    "PageCursor",
    "PageStyle",
    "v3_body",
    "v3_query",
]

T = TypeVar("T")

#: The query parameter CircleCI API v2 reads the page token from.
PAGE_TOKEN_PARAM = "page-token"  # noqa: S105 - a parameter name, not a secret
#: API v3's query parameters: the opaque cursor sent back unchanged, and the page size.
V3_CURSOR_PARAM = "page[cursor]"
V3_LIMIT_PARAM = "page[limit]"


@attrs.frozen
class PageStyle:
    """Where a decoded page keeps its items and the token of the next page."""

    name: str
    items_key: str
    #: The next page's token from the decoded page (``None`` or ``""``: the last page).
    next_token: Callable[[Mapping[str, Any]], Any]
    #: An empty page ends the walk even if it names a next one (v3 clients stop there).
    empty_ends: bool = False


def _v3_next(data: Mapping[str, Any]) -> Any:
    """``page.next``; a missing or null ``page`` block ends the walk (as CircleCI's own
    clients read it)."""
    page = data.get("page")
    return page.get("next") if isinstance(page, dict) else None


# (v2's is a C-level getter: a walk calls it once per page)
V2_PAGES = PageStyle("v2", "items", operator.methodcaller("get", "next_page_token"))
V3_PAGES = PageStyle("v3", "data", _v3_next, empty_ends=True)


def v3_query(
    params: Mapping[str, Any] | None, cursor: str | None, limit: int | None
) -> dict[str, Any]:
    """A v3 list's query for one page: ``page[cursor]`` when there is one, ``page[limit]``
    when given."""
    query = dict(params or {})
    if cursor:
        query[V3_CURSOR_PARAM] = cursor
    if limit is not None:
        query[V3_LIMIT_PARAM] = str(limit)
    return query


def v3_body(body: Mapping[str, Any], cursor: str | None, limit: int | None) -> dict[str, Any]:
    """A v3 search POST's body for one page: ``page: {cursor, limit}`` (``""`` on the first
    page, as the official CLI sends it)."""
    page: dict[str, Any] = {"cursor": cursor or ""}
    if limit is not None:
        page["limit"] = limit
    return {**body, "page": page}


@attrs.frozen
class Page(Generic[T]):
    items: list[T]
    #: The token of the page after this one; ``None`` on the last page.
    next_page_token: str | None
    #: The token this page was fetched with (``None`` for the first page).
    page_token: str | None
    #: The whole decoded response, for fields beside ``items`` (``total_count``, ...).
    raw: Mapping[str, Any] = attrs.field(repr=False, factory=dict)


# A walk builds one Page per page. attrs' frozen __init__ stores each field through
# ``object.__setattr__`` by name; the slots' own setters cost half as much. (Page has no
# validator, converter or post-init hook that this would skip: a test checks it.)
_new = object.__new__
_SET_PAGE_FIELDS = tuple(getattr(Page, f.name).__set__ for f in attrs.fields(Page))


def _page(
    items: list[Any], next_page_token: str | None, page_token: str | None, raw: Mapping[str, Any]
) -> Page[Any]:
    """``Page(items, next_page_token, page_token, raw)``, built directly."""
    page: Page[Any] = _new(Page)
    set_items, set_next, set_token, set_raw = _SET_PAGE_FIELDS
    set_items(page, items)
    set_next(page, next_page_token)
    set_token(page, page_token)
    set_raw(page, raw)
    return page


class PageCursor:
    """Where a walk is, and whether it may go on. No I/O."""

    def __init__(self, page_token: str | None = None, max_items: int | None = None) -> None:
        if max_items is not None and max_items < 0:
            raise ValueError("max_items must be >= 0")
        self.token = page_token or None
        self.max_items = max_items
        self.items_yielded = 0
        self.pages_fetched = 0
        self.exhausted = False
        self.truncated = False
        #: ``exhausted or truncated``: the walk fetches nothing more.
        self.done = False
        self._seen: set[str] = set()
        if self.token is not None:
            self._seen.add(self.token)

    def page_fetched(self, next_token: Any, available: int = 0) -> int:
        """Record a page of ``available`` items and the token it named for the next one;
        return how many of its items ``max_items`` lets through (fewer: the walk is
        truncated)."""
        self.pages_fetched += 1
        if next_token is None or next_token == "":
            self.exhausted = self.done = True
            self.token = None
        elif not isinstance(next_token, str):
            raise PaginationError(f"next_page_token is not a string: {type(next_token).__name__}")
        elif next_token in self._seen:
            raise PaginationError(
                f"the server returned page token {next_token[:40]!r} a second time; "
                "stopping instead of looping forever"
            )
        else:
            self._seen.add(next_token)
            self.token = next_token
        if self.max_items is None:
            return available
        keep = self.allowance(available)
        if keep < available:
            self.truncated = self.done = True
        return keep

    def allowance(self, available: int) -> int:
        """How many of ``available`` items may still be yielded under ``max_items``."""
        if self.max_items is None:
            return available
        left = self.max_items - self.items_yielded
        if available >= left:
            return max(left, 0)
        return available

    def yielded(self, count: int) -> None:
        self.items_yielded += count
        if (
            self.max_items is not None
            and self.items_yielded >= self.max_items
            and not self.exhausted
        ):
            self.truncated = self.done = True


FetchPage = Callable[[str | None], Awaitable[Any]]
#: A page recorded by the walk's cursor: the items it keeps, the token it was fetched with, and
#: the whole decoded response.
_Taken = tuple[list[Any], str | None, Any]


class AsyncPaginator(Generic[T]):
    """Items (``async for``) or whole pages (:meth:`pages`) of a list endpoint, fetched lazily.

    With ``read_ahead`` (the default when items are converted to models), the next page is
    requested before the current one is converted and handed out: a walk that stops early by
    ``break`` has sent one request more than it used; :meth:`aclose` cancels it. ``max_items``
    never reads past what it allows.

    Iteration can stop (``break``) and continue later from where it stopped. After a walk
    stops early, :attr:`resume_token` fetches the page holding the next unseen item, so a new
    paginator started with ``page_token=resume_token`` picks up there (the part of that page
    already seen comes again: the API cannot start mid-page).

    ``convert`` turns one item into a ``T``; ``convert_items`` a page's items at once (one call
    per page). Either way a failure fails its page.
    """

    def __init__(
        self,
        fetch: FetchPage,
        *,
        page_token: str | None = None,
        max_items: int | None = None,
        convert: Callable[[Any], T] | None = None,
        read_ahead: bool | None = None,
        style: PageStyle = V2_PAGES,
        convert_items: Callable[[list[Any]], list[T]] | None = None,
    ) -> None:
        if convert is not None and convert_items is not None:
            raise ConfigurationError(
                "pass convert (per item) or convert_items (a page's), not both"
            )
        if convert is not None:
            convert_items = functools.partial(_each, convert)
        self._fetch = fetch
        self._style = style
        # By default only typed walks read ahead: converting a page takes long enough to hide
        # the next round trip behind it; a walk of plain dicts gains less than a task costs.
        self._read_ahead = read_ahead if read_ahead is not None else convert_items is not None
        # Reading ahead: the task (while one runs), the future the walk waits on for the page
        # being read, and a page read that the walk has not asked for yet (data or error).
        self._reader: asyncio.Task[None] | None = None
        self._handoff: asyncio.Future[_Taken | Exception] | None = None
        self._arrived: tuple[Any, Exception | None] | None = None
        # A page recorded in the cursor but not yet handed out: (items kept, its token, data).
        self._taken: _Taken | None = None
        self._convert = convert_items
        self._cursor = PageCursor(page_token, max_items)
        self._buffer: deque[T] = deque()
        self._buffer_token: str | None = None  # the token of the page the buffer came from
        # Set when max_items cut a page short: (the token of that page,)
        self._cut: tuple[str | None] | None = None

    def __repr__(self) -> str:
        c = self._cursor
        return (
            f"<AsyncPaginator pages={c.pages_fetched} items={c.items_yielded} "
            f"exhausted={c.exhausted} truncated={c.truncated}>"
        )

    # -- state --------------------------------------------------------------------------------

    @property
    def next_page_token(self) -> str | None:
        """The token of the next page to fetch (``None`` once the last page was fetched)."""
        return self._cursor.token

    @property
    def resume_token(self) -> str | None:
        """The token to start a new walk at the next unseen item (``None``: nothing left, or
        the walk has not started and starts from the first page)."""
        if self._buffer:
            return self._buffer_token
        if self._taken is not None:
            return self._taken[1]
        if self._cut is not None:
            return self._cut[0]
        return self._cursor.token

    @property
    def exhausted(self) -> bool:
        """True when the last page has been fetched and every item yielded."""
        return self._cursor.exhausted and not self._buffer and self._taken is None

    @property
    def truncated(self) -> bool:
        """True when ``max_items`` stopped the walk before the end of the list."""
        return self._cursor.truncated

    @property
    def pages_fetched(self) -> int:
        return self._cursor.pages_fetched

    @property
    def items_yielded(self) -> int:
        return self._cursor.items_yielded

    # -- iteration ----------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        while not self._buffer:
            if self._cursor.done and self._taken is None:
                raise StopAsyncIteration
            page = await self._next_page()
            self._buffer.extend(page.items)
            self._buffer_token = page.page_token
        self._cursor.yielded(1)
        return self._buffer.popleft()

    def pages(self) -> AsyncIterator[Page[T]]:
        """Whole pages (items already buffered by item iteration come first)."""
        return _Pages(self)

    async def _buffered_page(self) -> Page[T]:
        items = list(self._buffer)
        self._buffer.clear()
        self._cursor.yielded(len(items))
        return Page(items, self._cursor.token, self._buffer_token)

    async def collect(self) -> list[T]:
        """Every remaining item as a list (bounded by ``max_items``)."""
        return [item async for item in self]

    async def _next_page(self, *, whole: bool = False) -> Page[T]:
        """Fetch the next page, keeping only what ``max_items`` still allows (``whole``: the
        page is handed out as it is, its items counted as yielded).

        The request for the page after it goes out before this page's items are converted, so
        converting (the costly part of a typed walk) overlaps the next round trip.
        """
        taken = self._taken  # (a page taken before its walk was cancelled comes first)
        if taken is None:
            token = self._cursor.token
            arrived, self._arrived = self._arrived, None
            reader = self._reader
            try:
                if arrived is None and reader is not None and not reader.done():
                    # The page is on its way: the reader takes it for this walk as it comes.
                    handoff = self._handoff = reader.get_loop().create_future()
                    try:
                        handed = await handoff
                    finally:
                        self._handoff = None
                    if isinstance(handed, Exception):
                        raise handed
                    taken = handed
                else:
                    if arrived is not None:
                        data, failure = arrived
                        if failure is not None:
                            raise failure
                    else:
                        data = await self._fetch(token)
                    taken, more = self._take(token, data)
                    if more:
                        self._reader = asyncio.get_running_loop().create_task(self._read_on())
                        await _one_pass()  # let that request go out before converting
            except CircleCIError as exc:
                exc.page_token = token
                raise
        self._taken = None
        raw_items, token, data = taken
        convert = self._convert
        items: list[T] = convert(raw_items) if convert is not None else raw_items
        cursor = self._cursor
        if whole:
            cursor.yielded(len(raw_items))
        return _page(items, cursor.token, token, data)

    def _take(self, token: str | None, data: Any) -> tuple[_Taken, bool]:
        """Record the page fetched with ``token`` (what ``max_items`` keeps of its items, the
        token it names next); return it and whether to read the next one ahead. The page waits
        in ``_taken`` until the walk hands it out, so a walk cancelled meanwhile still has it."""
        cursor = self._cursor
        style = self._style
        raw_items = data.get(style.items_key) if data.__class__ is dict else None
        if raw_items.__class__ is not list:
            raw_items = _items_of(data, style)
        available = len(raw_items)
        keep = cursor.page_fetched(
            None if style.empty_ends and not raw_items else style.next_token(data), available
        )
        if keep < available:
            raw_items = raw_items[:keep]
            self._cut = (token,)
        taken = self._taken = (raw_items, token, data)
        more = self._read_ahead and not cursor.done and cursor.allowance(keep + 1) > keep
        return taken, more

    async def _read_on(self) -> None:
        """Read the walk's next pages ahead, one at a time.

        A page the walk is already waiting for is taken here, and the request for the one
        after it goes out at once, in the same pass of the event loop (no task per page, no
        pass between an answer and the next request). A page that arrives before the walk
        asks for it, or an error, is left in ``_arrived`` for the walk, and reading stops: the
        walk is never more than one page behind. Errors are the walk's to raise, on their
        page: returned to it, never left in the task (an abandoned walk logs nothing)."""
        token = self._cursor.token
        try:
            while True:
                try:
                    data = await self._fetch(token)
                    handoff = self._handoff
                    if handoff is None or handoff.done():
                        self._arrived = (data, None)
                        return
                    taken, more = self._take(token, data)
                except Exception as exc:
                    handoff = self._handoff
                    if handoff is None or handoff.done():
                        self._arrived = (None, exc)
                    else:
                        handoff.set_result(exc)
                    return
                handoff.set_result(taken)
                if not more:
                    return
                token = self._cursor.token
        except asyncio.CancelledError:  # (aclose): a walk waiting meanwhile must not hang
            if self._handoff is not None:
                self._handoff.cancel()
            raise

    async def aclose(self) -> None:
        """Cancel the page being read ahead (a walk that ends by itself has none)."""
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, CircleCIError):
                await reader


def _each(convert: Callable[[Any], T], items: list[Any]) -> list[T]:
    return [convert(item) for item in items]


def _items_of(data: Any, style: PageStyle) -> list[Any]:
    """A page's item list, from a dict (or a dict subclass); refused when it has none."""
    raw_items = data.get(style.items_key) if isinstance(data, dict) else None
    if not isinstance(raw_items, list):
        raise PaginationError(
            f"page response has no {style.items_key!r} list (got {type(data).__name__})"
        )
    return raw_items


class _Pages(Generic[T]):
    """``paginator.pages()``: each step is the paginator's next page itself, awaited directly
    (no generator frame between the walk and its requests)."""

    __slots__ = ("_paginator",)

    def __init__(self, paginator: AsyncPaginator[T]) -> None:
        self._paginator = paginator

    def __aiter__(self) -> _Pages[T]:
        return self

    def __anext__(self) -> Coroutine[Any, Any, Page[T]]:
        paginator = self._paginator
        if paginator._buffer:
            return paginator._buffered_page()
        if paginator._cursor.done and paginator._taken is None:
            raise StopAsyncIteration
        return paginator._next_page(whole=True)

    async def aclose(self) -> None:
        """Stop walking: cancel a page being read ahead (as ``paginator.aclose()``)."""
        await self._paginator.aclose()


@types.coroutine
def _one_pass() -> Generator[None, None, None]:
    """``await asyncio.sleep(0)`` without its coroutine: one pass of the event loop."""
    yield
