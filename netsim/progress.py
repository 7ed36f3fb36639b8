"""Progress bars (rich, on stderr) for long runs; silent when disabled (``--quiet``) or when
the environment sets ``NETSIM_PROGRESS=0``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar", "Bar"]


class Bar:
    """A handle on one progress task; every method is a no-op when the bar is disabled."""

    def __init__(self, progress: Progress | None, task: int | None):
        self._progress = progress
        self._task = task

    def update(self, completed: float | None = None, description: str | None = None) -> None:
        if self._progress is not None:
            kw = {}
            if completed is not None:
                kw["completed"] = completed
            if description is not None:
                kw["description"] = description
            self._progress.update(self._task, **kw)

    def advance(self, n: float = 1.0) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)


def _enabled(enabled: bool) -> bool:
    return enabled and os.environ.get("NETSIM_PROGRESS", "1") != "0"


@contextlib.contextmanager
def progress_bar(total: float, description: str, enabled: bool = True) -> Iterator[Bar]:
    """A rich progress bar with count, percentage, elapsed time and ETA, on stderr."""
    if not _enabled(enabled):
        yield Bar(None, None)
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    with progress:
        yield Bar(progress, progress.add_task(description, total=total))
