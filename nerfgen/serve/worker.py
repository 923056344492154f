"""One render worker thread fed through a bounded queue.

Renders are CPU-bound and the scene state is not thread-safe, so every request that reads
or changes the scene becomes a job for one thread, in arrival order. At most `queue_size`
jobs wait besides the one being run; a request that finds the queue full is refused at
once (`QueueFull`, answered 429) instead of building a backlog no client waits for.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Callable, TypeVar

T = TypeVar("T")


class QueueFull(Exception):
    """The worker's queue holds `queue_size` waiting jobs already."""


class RenderWorker:
    def __init__(self, queue_size: int):
        self.queue_size = queue_size
        self._jobs: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._work, name="nerfgen-render", daemon=True)
        self._thread.start()

    async def run(self, job: Callable[[], T]) -> T:
        """`job()` run on the worker thread; raises QueueFull when the queue is full, and
        what the job raised."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        try:
            self._jobs.put_nowait((job, future, loop))
        except queue.Full:
            raise QueueFull() from None
        return await future

    def stop(self) -> None:
        """Lets the queued jobs finish, then ends the thread."""
        self._jobs.put(None)
        self._thread.join()

    def _work(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future, loop = item
            try:
                result, error = job(), None
            except Exception as e:  # handed to the request that submitted the job
                result, error = None, e
            loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future, result, error: Exception | None) -> None:
    if future.done():  # the request was cancelled (client gone) while its job ran
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
