"""Hot reload: the running bot notices edits to FAQ_DIR within seconds and swaps the FAQ atomically."""

from __future__ import annotations

import logging
import threading

from bot.faq import FaqError
from bot.faq.loader import fingerprint
from bot.features.faq import FaqService

log = logging.getLogger(__name__)


class FaqWatcher:
    """Poll the FAQ folder in a background thread and reload the FAQ when its files change.

    Files are compared by content, not by modification time (network shares round times), and a
    change is loaded once it has stayed the same for one interval, so a file being saved is not read
    half-written.
    """

    def __init__(self, service: FaqService, interval_seconds: float) -> None:
        self.service = service
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: str | None = None

    def check_once(self) -> bool:
        """Reload when the files changed and then stayed the same; return whether a reload was tried."""
        current = fingerprint(self.service.directory)
        if current == self.service.loaded_fingerprint and self.service.last_error is not None:
            self.service.files_restored()  # the broken edit was undone
        if current in (self.service.loaded_fingerprint, self.service.failed_fingerprint):
            self._pending = None
            return False
        if current != self._pending:
            self._pending = current  # changed since the last look: maybe still being written
            return False
        self._pending = None
        try:
            self.service.reload()
        except FaqError:
            pass  # logged by the service and kept for the admins; the previous FAQ stays in use
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
            try:
                self.check_once()
            except Exception:
                log.exception("FAQ watcher: unexpected error, watching on")
