"""Hot reload: the running bot notices edits to FAQ_DIR within seconds and swaps the FAQ atomically."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from bot.faq import FaqError
from bot.features.faq import FaqService

log = logging.getLogger(__name__)

Snapshot = tuple[tuple[str, int, int], ...]


def snapshot(directory: Path) -> Snapshot:
    """Return what identifies the FAQ files' contents: names, modification times and sizes."""
    paths = [*directory.glob("*.yaml"), *directory.glob("lexique/*.yaml")]
    entries = []
    for path in sorted(paths):
        try:
            stat = path.stat()
        except OSError:
            continue  # removed between listing and stat: the next look sees it gone
        entries.append((str(path.relative_to(directory)), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


class FaqWatcher:
    """Poll the FAQ folder in a background thread and reload the FAQ when its files change."""

    def __init__(self, service: FaqService, interval_seconds: float) -> None:
        self.service = service
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = snapshot(service.directory)

    def check_once(self) -> bool:
        """Reload when the files changed since the last look; return whether a reload was tried."""
        # Taken before reading: an edit that lands while the files are read is seen at the next look.
        current = snapshot(self.service.directory)
        if current == self._seen:
            return False
        self._seen = current
        try:
            self.service.reload()
        except FaqError:
            pass  # logged by the service, kept for the admins; the previous FAQ stays in use
        except Exception:
            log.exception("FAQ reload failed; the previous FAQ stays in use")
        return True

    def start(self) -> None:
        """Start watching (nothing to do when the interval is 0)."""
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="faq-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check_once()
