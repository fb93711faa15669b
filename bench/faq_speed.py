"""Measure the FAQ matcher's speed on a generated 1,000-entry FAQ, beside one raw rapidfuzz call.

Usage: .venv/bin/python bench/faq_speed.py [--entries N] [--queries N] [--faq-dir DIR]

The FAQ is generated deterministically from the shipped one (``faq/``): every entry is repeated with a
new id, a context phrase ("pour le module bureautique", "à Charleroi"...), words swapped for their
lexicon synonyms and its alternatives shuffled, so that the vocabulary grows like a real FAQ's would.
The queries are the FAQ's own phrasings written the way trainees type: SMS spellings, dropped accents,
typos, and long run-on messages. The reference is a single ``rapidfuzz.process.extractOne(query,
strings, scorer=fuzz.WRatio, processor=utils.default_process)`` call over all the questions and
alternatives.

With the embedder (``--embedder use``, the default), the semantic stage is measured too: the cold start
that embeds every question and alternative (progress shown), the warm start that reads them from the
vector cache, and the matcher with words and meaning beside the embedding of one message alone. The
process's peak resident memory is printed at the end.

Targets: words only, p99 <= 5 ms and loading 1,000 entries <= 1 s; with meaning, p99 <= 30 ms, loading
with a warm cache <= 1 s, cold <= 90 s.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process, utils

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.faq import FaqBase, FaqEntry, FaqMatcher, load_faq  # noqa: E402
from bot.faq.normalize import lexicon  # noqa: E402
from bot.faq.semantic import VectorCache, index_entries, load_embedder  # noqa: E402

SEED = 20250611
CONTEXTS = [
    "pendant l'atelier de recherche d'emploi",
    "pour le module de bureautique du mardi",
    "pendant mon stage en entreprise",
    "quand je suis chez moi à Charleroi",
    "pour mon dossier au Forem de Namur",
    "avec l'assistante sociale du CPAS",
    "pour l'atelier cuisine et horeca",
    "sur le chantier de rénovation",
    "dans le cybercafé du rez-de-chaussée",
    "pour la formation en logistique",
    "pendant la pause de midi au centre",
    "pour un job de nettoyage en titres-services",
    "avec le syndicat ou la CAPAC",
    "sur la tablette prêtée par le centre",
    "pour mon inscription à la mutuelle",
    "avec mon compte itsme sur le smartphone",
    "pour l'entretien avec la conseillère",
    "pendant le module de français langue étrangère",
    "pour le cours de néerlandais du jeudi",
    "quand je travaille à l'entrepôt de Liège",
]
# The way trainees spell, applied to generate queries (standard spelling -> SMS spelling).
SMS = {
    "quoi": "koi",
    "comment": "cmt",
    "pourquoi": "pk",
    "mot de passe": "mdp",
    "ordinateur": "ordi",
    "téléphone": "gsm",
    "je ne": "je",
    "pas": "pa",
    "c'est": "c",
    "s'il vous plaît": "svp",
    "quelque chose": "qqch",
    "j'ai": "g",
}
STORIES = [
    "bonjour madame, excusez moi, hier au cours la formatrice a explique mais j'ai pas compris",
    "alors voila depuis lundi j'essaie tout seul a la maison et ma fille aussi a essaye mais rien ne marche",
    "dsl pour le message, je suis au travail et j'ai pas le temps d'appeler le centre avant 17h",
]


def generate_faq(source: list[FaqEntry], count: int, directory: Path) -> int:
    rng = random.Random(SEED)
    variants: dict[str, list[str]] = {}
    for variant, canonical in lexicon().synonyms.items():
        if variant.isalpha() and len(variant) > 3:
            variants.setdefault(canonical, []).append(variant)

    def vary(text: str) -> str:
        words = text.split()
        for index, word in enumerate(words):
            choices = variants.get(word.lower().rstrip("?,.")[:-1], [])
            if choices and rng.random() < 0.5:
                words[index] = rng.choice(choices)
        return " ".join(words)

    entries = []
    for number in range(count):
        entry = source[number % len(source)]
        round_ = number // len(source)
        # One distinct context phrase per round keeps the generated questions apart (the loader
        # rejects near-duplicate questions).
        context = CONTEXTS[(round_ - 1) % len(CONTEXTS)] if round_ else ""
        alternatives = [vary(text) for text in entry.alternatives]
        rng.shuffle(alternatives)
        question = entry.question if not context else f"{vary(entry.question).rstrip(' ?')} {context} ?"
        entries.append(
            {
                "id": f"{entry.id}-{round_}" if round_ else entry.id,
                "question": question,
                "alternatives": alternatives,
                "keywords": list(entry.keywords),
                "answer": entry.answer,
            }
        )
    (directory / "generated.yaml").write_text(
        yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return len(entries)


def make_queries(source: list[FaqEntry], count: int) -> list[str]:
    rng = random.Random(SEED + 1)
    texts = [text for entry in source for text in (entry.question, *entry.alternatives)]
    queries = []
    for number in range(count):
        text = rng.choice(texts).lower()
        for standard, sms in SMS.items():
            if rng.random() < 0.7:
                text = text.replace(standard, sms)
        if rng.random() < 0.6:
            text = text.translate(str.maketrans("éèêàçôîû", "eeeacoiu"))
        words = text.split()
        for _ in range(rng.randint(0, 2)):
            # one typo: a letter dropped or doubled in a longer word
            candidates = [index for index, word in enumerate(words) if len(word) > 4]
            if candidates:
                index = rng.choice(candidates)
                word = words[index]
                cut = rng.randrange(1, len(word) - 1)
                words[index] = word[:cut] + word[cut + 1 :] if rng.random() < 0.5 else word[:cut] + word[cut:]
        text = re.sub(r"[?]", "", " ".join(words)) + rng.choice(["", " ?", " ??", " stp"])
        if number % 5 == 0:
            text = f"{rng.choice(STORIES)}, {text}"
        queries.append(text)
    return queries


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faq-dir", type=Path, default=REPO_ROOT / "faq")
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--embedder", choices=["use", "none"], default="use")
    args = parser.parse_args()

    source = list(load_faq(args.faq_dir).entries)
    queries = make_queries(source, args.queries)
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        written = generate_faq(source, args.entries, directory)
        lexicon()  # the shipped lexicon is loaded once per process, whatever the FAQ: not counted
        started = time.perf_counter()
        base = load_faq(directory)
        loaded = time.perf_counter()
        matcher = FaqMatcher(base)
        built = time.perf_counter()
        # Where the loading time goes: the YAML parsing itself, pure Python or libyaml.
        text = (directory / "generated.yaml").read_text(encoding="utf-8")
        parse_start = time.perf_counter()
        yaml.load(text, Loader=yaml.SafeLoader)
        parse_python = time.perf_counter() - parse_start
        parse_start = time.perf_counter()
        if yaml.__with_libyaml__:
            yaml.load(text, Loader=yaml.CSafeLoader)
        parse_c = time.perf_counter() - parse_start

    strings = [text for entry in base.entries for text in (entry.question, *entry.alternatives)]
    vocabulary = {word for text in strings for word in utils.default_process(text).split()}
    print(
        f"generated FAQ: {written} entries, {len(strings)} questions and alternatives, "
        f"{len(vocabulary)} distinct words in them"
    )
    print(
        f"load_faq {1000 * (loaded - started):.0f} ms + FaqMatcher {1000 * (built - loaded):.0f} ms "
        f"= {1000 * (built - started):.0f} ms"
    )
    print(
        f"  (YAML parsing alone: {1000 * parse_c:.0f} ms with libyaml's CSafeLoader, which the loader uses; "
        f"{1000 * parse_python:.0f} ms with the pure-Python SafeLoader, its fallback)"
    )

    for query in queries[:50]:
        matcher.match(query)  # warm-up
    ours = []
    for query in queries:
        start = time.perf_counter()
        matcher.match(query)
        ours.append((time.perf_counter() - start) * 1000)
    raw = []
    for query in queries:
        start = time.perf_counter()
        process.extractOne(query, strings, scorer=fuzz.WRatio, processor=utils.default_process)
        raw.append((time.perf_counter() - start) * 1000)

    def line(label: str, values: list[float]) -> None:
        print(
            f"{label:<22} median {statistics.median(values):.3f} ms  p99 {percentile(values, 0.99):.3f} ms  "
            f"max {max(values):.3f} ms  {1000 * len(values) / sum(values):,.0f} queries/s"
        )

    print(f"{len(queries)} queries ({sum(len(q) > 120 for q in queries)} longer than 120 characters)")
    line("FaqMatcher.match", ours)
    line("raw extractOne WRatio", raw)
    print(f"median ratio: {statistics.median(ours) / statistics.median(raw):.2f}x the raw extractOne")
    if args.embedder != "none":
        measure_meaning(base, queries, line, load_seconds=loaded - started, name=args.embedder)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak_mb:.0f} MB")
    return 0


def measure_meaning(
    base: FaqBase,
    queries: list[str],
    line: Callable[[str, list[float]], None],
    *,
    load_seconds: float,
    name: str,
) -> None:
    loading = time.perf_counter()
    embedder = load_embedder(name)
    model_seconds = time.perf_counter() - loading
    if embedder is None:
        print("embedder: could not load (see the log): the semantic stage is not measured")
        return
    phrasings = sum(1 + len(entry.alternatives) for entry in base.entries)
    print(f"\nsemantic stage: {embedder.model_id} on one thread, {phrasings} phrasings to embed")
    print(f"loading the model: {1000 * model_seconds:.0f} ms (once per process, before the FAQ)")
    with tempfile.TemporaryDirectory() as temp:
        cache = VectorCache(Path(temp))

        def progress(done: int, total: int) -> None:
            print(
                f"  cold start: {done}/{total} embedded ({time.perf_counter() - cold_start:.0f} s)",
                flush=True,
            )

        cold_start = time.perf_counter()
        index_entries(base.entries, embedder, cache, progress=progress)
        cold = time.perf_counter() - cold_start
        warm_start = time.perf_counter()
        index = index_entries(base.entries, embedder, cache)
        matcher = FaqMatcher(base, semantic=index)
        # The files were read once above: their loading time is added, as a restart would pay it.
        warm = time.perf_counter() - warm_start + load_seconds
    print(f"cold start (embed everything): {cold:.1f} s")
    print(f"warm start (load_faq + vectors from the cache + FaqMatcher): {1000 * warm:.0f} ms")
    alone = []
    for query in queries:
        start = time.perf_counter()
        embedder.embed([embedder.reads(query)])
        alone.append((time.perf_counter() - start) * 1000)
    fused = []
    for query in queries:
        start = time.perf_counter()
        matcher.match(query)
        fused.append((time.perf_counter() - start) * 1000)
    line("embedding one message", alone)
    line("match, words+meaning", fused)


if __name__ == "__main__":
    raise SystemExit(main())
