"""Run a fake API server either in the test's event loop or in a thread of its own."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Self


class BackgroundServing:
    """Give a fake server with async start() and stop() both context managers.

    ``async with`` serves in the test's event loop; ``with`` serves from a background thread with its
    own event loop, for code under test that runs its own loop (a bot process, a benchmark).
    """

    # Named in the thread and in the error when the server cannot start.
    served_name = "fake API"
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _thread_stop: asyncio.Event | None = None
    _thread_error: BaseException | None = None

    async def start(self) -> None:
        """Start serving (in the running event loop)."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop serving."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def __enter__(self) -> Self:
        """Serve from a background thread with its own event loop."""
        started = threading.Event()

        async def main() -> None:
            self._thread_stop = asyncio.Event()
            await self.start()
            started.set()
            await self._thread_stop.wait()
            await self.stop()

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # reported to the starting thread
                self._thread_error = exc
                started.set()

        name = "fake-" + self.served_name.lower().replace(" ", "-")
        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()
        started.wait(10)
        if self._thread_error is not None:
            raise RuntimeError(f"the fake {self.served_name} failed to start") from self._thread_error
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        loop, stop = self._loop, self._thread_stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
