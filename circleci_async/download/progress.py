"""Progress reporting: a three-method protocol, a no-op default and a tqdm adapter.

The library itself never prints. Pass ``progress=TqdmProgress()`` (needs ``tqdm``) for one
aggregated terminal bar, or any object with ``start``/``advance``/``finish`` to feed your own UI.
Callbacks run on the event loop thread and should return quickly.
"""

from __future__ import annotations

import importlib
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._models import DownloadResult

__all__ = ["NullProgress", "ProgressReporter", "TqdmProgress"]


@runtime_checkable
class ProgressReporter(Protocol):
    """Receives a download's progress. ``name`` is the file's destination relative to ``dest``
    (``/``-separated), or the artifact path when it was refused.

    - ``start(name, total)``: a transfer begins; ``total`` is the size in bytes when the server
      announced one. Not called for files skipped or refused before any transfer.
    - ``advance(name, nbytes)``: ``nbytes`` more arrived. Negative when a transfer has to
      restart from the beginning (the server ignored a resume request).
    - ``finish(name, result)``: called once for every file, whatever happened.
    """

    def start(self, name: str, total: int | None) -> None: ...

    def advance(self, name: str, nbytes: int) -> None: ...

    def finish(self, name: str, result: DownloadResult) -> None: ...


class NullProgress:
    """Reports nothing."""

    def start(self, name: str, total: int | None) -> None:
        pass

    def advance(self, name: str, nbytes: int) -> None:
        pass

    def finish(self, name: str, result: DownloadResult) -> None:
        pass


class TqdmProgress:
    """One aggregated byte bar for the whole batch (files keep arriving, so the total grows as
    their sizes become known), with file counts in the postfix.

    ``TqdmProgress(desc="artifacts", leave=True, **tqdm_kwargs)``; use it as a context manager or
    call :meth:`close`. tqdm is imported when the bar is first needed.
    """

    def __init__(self, *, desc: str = "artifacts", **tqdm_kwargs: Any) -> None:
        self._kwargs: dict[str, Any] = {
            "desc": desc,
            "unit": "B",
            "unit_scale": True,
            "unit_divisor": 1024,
            "total": 0,
            **tqdm_kwargs,
        }
        self._bar: Any = None
        self.files_done = 0
        self.files_failed = 0
        self.files_skipped = 0

    def _get_bar(self) -> Any:
        if self._bar is None:
            tqdm = importlib.import_module("tqdm.auto").tqdm  # optional dependency
            self._bar = tqdm(**self._kwargs)
        return self._bar

    def start(self, name: str, total: int | None) -> None:
        bar = self._get_bar()
        if total:
            bar.total = (bar.total or 0) + total
            bar.refresh()

    def advance(self, name: str, nbytes: int) -> None:
        self._get_bar().update(nbytes)

    def finish(self, name: str, result: DownloadResult) -> None:
        from ._models import DownloadStatus

        if result.status is DownloadStatus.DOWNLOADED:
            self.files_done += 1
        elif result.status is DownloadStatus.SKIPPED:
            self.files_skipped += 1
        else:
            self.files_failed += 1
        self._get_bar().set_postfix(
            files=self.files_done, skipped=self.files_skipped, failed=self.files_failed
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> TqdmProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
