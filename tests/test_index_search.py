"""Search over hashing-embedder indexes: modes, scores, filters, transliteration variants, near-duplicates."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidQuery
from core.settings import Settings
from core.text import lexical_tokens, skeleton, words
from index.build import build_index
from index.records import SearchFilters
from index.search import Searcher, fuse


@pytest.fixture
def searcher(hashing_settings: Settings) -> Searcher:
    build_index(hashing_settings, progress=False)
    return Searcher.open(hashing_settings)


def all_chunks(searcher: Searcher) -> list:
    return list(searcher.iter_chunks())


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_mode_finds_the_nujaba_passage_with_a_true_line_span(searcher, hashing_settings):
    query = "training camps for Harakat al-Nujaba in the Homs desert"
    for mode in ("dense", "bm25", "hybrid"):
        hits = searcher.search(query, k=5, mode=mode)
        assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
        top = hits[0].chunk
        assert top.source == "001_4b85ccf491a580e5.txt", mode
        raw = (hashing_settings.archive_dir / top.source).read_text(encoding="utf-8").splitlines()
        window = squash(" ".join(raw[top.start_line - 1 : top.end_line]))
        assert all(squash(piece) in window for piece in top.text.split("\n\n"))
        assert "Harakat al-Nujaba" in top.text
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)


def test_dense_score_is_the_cosine_where_the_model_runs_and_bm25_never_loads_it(searcher, hashing_settings):
    query = "Hezbollah threatens Tel Aviv over strikes on Beirut"
    lexical_only = Searcher.open(hashing_settings)
    assert lexical_only.search(query, k=4, mode="bm25") and lexical_only._embedder is None
    vector = searcher.embedder.embed_query(query)
    for mode in ("dense", "bm25", "hybrid"):
        for hit in searcher.search(query, k=4, mode=mode):
            stored = searcher.embedder.embed_documents([hit.chunk.embedding_text()])[0]
            if mode == "bm25":
                assert hit.dense_score is None  # qa computes it when it needs it
            else:  # vectors are stored as float16: the cosine agrees to about 1e-4
                assert hit.dense_score == pytest.approx(float(stored @ vector), abs=1e-3)
            if mode == "dense":
                assert hit.score == pytest.approx(hit.dense_score, abs=1e-5) and hit.lexical_score is None
            else:
                assert hit.lexical_score is not None
    bm25_hits = searcher.search(query, k=3, mode="bm25")
    assert bm25_hits[0].score == pytest.approx(bm25_hits[0].lexical_score) and bm25_hits[0].lexical_score > 0


def test_hybrid_is_reciprocal_rank_fusion_of_the_two_rankings(searcher, hashing_settings):
    query = "Qatar Hamas political office Doha"
    hybrid = searcher.search(query, k=3, mode="hybrid")
    dense = [h.chunk.id for h in searcher.search(query, k=searcher.chunk_count, mode="dense")]
    lexical = [h.chunk.id for h in searcher.search(query, k=searcher.chunk_count, mode="bm25")]
    k = hashing_settings.rrf_k
    for hit in hybrid:
        expected = 0.0
        if hit.chunk.id in dense:
            expected += hashing_settings.dense_weight / (k + dense.index(hit.chunk.id) + 1)
        if hit.chunk.id in lexical:
            expected += hashing_settings.bm25_weight / (k + lexical.index(hit.chunk.id) + 1)
        assert hit.score == pytest.approx(expected)
    assert fuse([([1, 2], 1.0), ([2, 3], 2.0)], 10) == pytest.approx(
        {1: 1 / 11, 2: 1 / 12 + 2 / 11, 3: 2 / 12}
    )


def test_source_glob_filter_applies_before_the_cut(searcher):
    query = "Iranian proxy militias in Deir Ezzor launched a campaign to support Hamas"
    unfiltered = searcher.search(query, k=3)
    assert unfiltered[0].chunk.source.startswith("000_")
    filtered = searcher.search(query, k=3, filters=SearchFilters(source_glob="00[34]_*"))
    assert len(filtered) == 3, "filtering happens before cutting to k"
    assert {h.chunk.source[:4] for h in filtered} <= {"003_", "004_"}
    nested = searcher.search(query, k=3, filters=SearchFilters(source_glob="*/004_*"))
    assert nested == []  # the glob is matched against the relative path (and the file name)


def test_date_filters_exclude_undated_chunks_only_when_set(searcher):
    dated = {c.source for c in all_chunks(searcher) if c.date}
    assert dated == {"002_257df2b6438dc5da.txt"}  # the only sample article stating its date (2023-11-09)
    query = "Iran-backed militias in eastern Syria"
    since = searcher.search(query, k=10, filters=SearchFilters(since="2023-11-01"))
    assert since and {h.chunk.source for h in since} == dated
    assert searcher.search(query, k=10, filters=SearchFilters(since="2023-11-10")) == []
    assert searcher.search(query, k=10, filters=SearchFilters(until="2023-11")) != []
    assert searcher.search(query, k=10, filters=SearchFilters(until="2023-10-31")) == []
    assert searcher.search(query, k=10, filters=SearchFilters(since="2023", until="2023")) != []
    assert {h.chunk.source for h in searcher.search(query, k=10)} > dated
    with pytest.raises(InvalidQuery):
        searcher.search(query, filters=SearchFilters(since="9 November"))
    with pytest.raises(InvalidQuery):
        searcher.search(query, mode="semantic")


def test_articles_and_status(searcher, hashing_settings):
    articles = searcher.articles()
    assert len(articles) == searcher.status()["articles"] == len({c.article_id for c in all_chunks(searcher)})
    first = searcher.article(articles[0].id)
    assert first == articles[0] and first.paragraphs and first.paragraphs[0].start_line > 0
    assert searcher.article("nope") is None
    status = searcher.status()
    assert status["model"] == "hashing-384" and status["dim"] == 384 and status["vector_index"] == "flat"
    assert status["chunks"] == len(all_chunks(searcher)) and status["built_at"]
    assert status["archive"] == str(hashing_settings.archive_dir.resolve())


# ---------------------------------------------------------------- transliteration variants

# One place, group or person per entry: the spellings the passages use, and other spellings to query with.
VARIANTS = [
    (["Dayr az Zawr", "Deir al-Zour"], ["Dair el-Zor", "Deirezzor"]),
    (["Al-Boukamal", "Abu Kamal"], ["Al Bukamal", "Alboukamal"]),
    (["Hizballah"], ["Hezbollah", "Hizbullah", "Hizzbullah"]),
    (["Zaynabiyun"], ["Zainabiyoun", "Zeinabiyoun"]),
    (["Fatimiyun"], ["Fatemiyoun", "Fatemiyun"]),
    (["Mayadeen"], ["Al-Mayadin", "al Mayadin"]),
    (["Harakat Nujabaa"], ["al-Nujaba", "Nujabah"]),
    (["Kassim"], ["Qassem", "Qasim"]),
]
FILLERS = [
    "Residents were advised to stay at home until further notice.",
    "Shops closed early and the roads were empty by the evening.",
    "Several families left for nearby villages during the night.",
    "A curfew was announced after a meeting of local officials.",
    "Schools suspended classes for the rest of the week.",
    "Power cuts lasted for most of the following day.",
]


def test_normaliser_folds_spelling_variants_to_shared_tokens():
    for written, queries in VARIANTS:
        for query in queries:
            for passage in written:
                assert set(lexical_tokens(query)) & set(lexical_tokens(passage)), (query, passage)
    assert skeleton("hezbollah") == skeleton("hizbullah") == skeleton("hizballah") == skeleton("hizzbullah")
    assert words("Al-Bukamal, al'Ummal and ash-Shuhada") == ["bukamal", "ummal", "shuhada"]
    assert words("Kata’ib and Shi'ite Syria's") == ["kataib", "shiite", "syria"]
    assert words("Ḥizb Allāh DÉJÀ") == ["hizb", "allah", "deja"]
    # Unrelated names stay apart.
    assert not set(lexical_tokens("Homs")) & set(lexical_tokens("Hama"))
    assert not set(lexical_tokens("Damascus")) & set(lexical_tokens("Daraa"))


def test_a_query_in_one_spelling_finds_the_passage_in_another(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    names = [name for written, _ in VARIANTS for name in written]
    for number, name in enumerate(names):
        filler = FILLERS[number % len(FILLERS)]
        (archive / f"report_{number:02d}.txt").write_text(
            f"Report number {number}\n\nLocal sources said that fighters gathered in {name} on Monday "
            f"and that the situation remained tense.\n\n{filler} "
            f"Officials gave no number for case {number}.\n",
            encoding="utf-8",
        )
    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=tmp_path / "index")
    build_index(settings, progress=False)
    searcher = Searcher.open(settings)
    assert len(searcher.articles()) == len(names)
    for written, queries in VARIANTS:
        for query_name in queries:
            assert not any(set(words(query_name)) & set(words(name)) for name in written), (
                "the plain words differ: only folding can match them"
            )
            # BM25 alone: the hashing embedder's dense ranking is noise among these near-identical passages.
            hits = searcher.search(f"fighters in {query_name}", k=len(written), mode="bm25")
            found = {name for hit in hits for name in written if f"in {name} on" in hit.chunk.text}
            assert found == set(written), (query_name, [h.chunk.text[:70] for h in hits])


def test_variant_query_on_the_sample_archive(searcher):
    # The sample writes "Deir Al-Zour" and "Hizzbullah"; the query uses neither spelling.
    hits = searcher.search("Hezbollah drone experts in Dayr az Zawr", k=3, mode="bm25")
    assert hits[0].chunk.source == "002_257df2b6438dc5da.txt"
    assert "Hizzbullah" in hits[0].chunk.text or "Hizbullah" in hits[0].chunk.text


# ---------------------------------------------------------------- near-duplicates


def test_near_duplicate_articles_collapse_into_one_hit(tmp_path, hashing_settings):
    archive = tmp_path / "dup-archive"
    archive.mkdir()
    original = (hashing_settings.archive_dir / "001_4b85ccf491a580e5.txt").read_text(encoding="utf-8")
    shutil.copy(hashing_settings.archive_dir / "003_52b4fc36533fb985.txt", archive / "003.txt")
    (archive / "001.txt").write_text(original, encoding="utf-8")
    (archive / "wire").mkdir()
    (archive / "wire" / "copy.txt").write_text(
        original.replace("225 fighters", "about 230 fighters"), encoding="utf-8"
    )
    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=tmp_path / "dup-index")
    build_index(settings, progress=False)
    searcher = Searcher.open(settings)
    groups = searcher.duplicate_groups()
    assert any({"001.txt#0", "wire/copy.txt#0"} <= set(group) for group in groups)

    group_of = {aid: n for n, group in enumerate(groups) for aid in group}
    for mode in ("dense", "bm25", "hybrid"):
        hits = searcher.search("Zainabiyoun and Fatemiyoun reinforcements in Deir Ezzor", k=6, mode=mode)
        if mode != "bm25":  # BM25 returns only passages sharing a word with the query
            assert len(hits) == 6, "collapsing does not leave the result short"
        shown_per_group: dict[int, set[str]] = {}
        for hit in hits:
            if hit.chunk.article_id in group_of:
                shown_per_group.setdefault(group_of[hit.chunk.article_id], set()).add(hit.chunk.article_id)
        assert shown_per_group and all(len(ids) == 1 for ids in shown_per_group.values()), mode
        for hit in hits:
            if hit.chunk.source == "003.txt":
                assert hit.also_in == ()
            else:
                other = ({"001.txt", "wire/copy.txt"} - {hit.chunk.source}).pop()
                assert hit.also_in == (other,)
        assert hits[0].chunk.source in {"001.txt", "wire/copy.txt"}


def test_empty_and_degenerate_queries(searcher):
    assert searcher.search("   ", k=5) == []
    assert searcher.search("Hamas", k=0) == []
    assert searcher.search("zzzzqqqq", k=3, mode="bm25") == []
    assert len(searcher.search("zzzzqqqq", k=3, mode="dense")) == 3
    assert len(searcher.search("Hamas", k=1000)) == searcher.chunk_count - _collapsed(searcher)


def _collapsed(searcher: Searcher) -> int:
    hidden = 0
    for group in searcher.duplicate_groups():
        hidden += sum(1 for c in all_chunks(searcher) if c.article_id in group[1:])
    return hidden


def test_vectors_round_trip(searcher):
    ids = searcher.chunk_ids()
    stored = searcher.vectors.vectors(ids)
    again = searcher.embedder.embed_documents([c.embedding_text() for c in searcher.chunks.many(ids)])
    assert np.allclose(stored, again, atol=1e-3)  # float16 storage: half a unit in the 4th decimal
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-3)


def test_sample_paths_are_relative(searcher):
    assert all(not Path(c.source).is_absolute() for c in all_chunks(searcher))


def test_term_lookup_returns_the_chunks_holding_all_or_any_tokens(searcher):
    every = {c.id: c for c in searcher.iter_chunks()}
    ids = {int(i) for i in searcher.chunk_ids()}
    holders = {i for i in ids if "hama" in lexical_tokens(searcher.chunks[i].embedding_text())}
    assert holders and set(searcher.chunks_with_terms(["hama"]).tolist()) == holders  # stemmed: "Hamas"
    both = set(searcher.chunks_with_terms(["hama", "qatar"]).tolist())
    either = set(searcher.chunks_with_terms(["hama", "qatar"], require_all=False).tolist())
    assert both < either and both <= holders <= either
    assert searcher.chunks_with_terms(["zzzzqqqq"]).tolist() == [] and len(every) == searcher.chunk_count


def test_near_duplicates_are_found_incrementally_and_forgotten_when_removed(tmp_path, hashing_settings):
    archive = tmp_path / "inc-archive"
    archive.mkdir()
    original = (hashing_settings.archive_dir / "001_4b85ccf491a580e5.txt").read_text(encoding="utf-8")
    (archive / "001.txt").write_text(original, encoding="utf-8")
    shutil.copy(hashing_settings.archive_dir / "003_52b4fc36533fb985.txt", archive / "003.txt")
    settings = Settings(embedding_backend="hashing", archive_dir=archive, index_dir=tmp_path / "inc-index")
    build_index(settings, progress=False)
    assert Searcher.open(settings).duplicate_groups() == []
    (archive / "copy.txt").write_text(original.replace("225 fighters", "about 230 fighters"), encoding="utf-8")
    assert build_index(settings, progress=False).added == 2
    groups = Searcher.open(settings).duplicate_groups()
    assert any({"001.txt#0", "copy.txt#0"} <= set(group) for group in groups)
    (archive / "001.txt").unlink()
    build_index(settings, progress=False)
    searcher = Searcher.open(settings)
    assert searcher.duplicate_groups() == [] and searcher.also_in("copy.txt#0") == ()


# ---------------------------------------------------------------- BM25 on a large index


def test_above_the_size_threshold_bm25_ranks_by_the_selective_query_words_only(searcher, hashing_settings,
                                                                                monkeypatch):
    holders: dict[str, set] = {}
    for chunk in searcher.iter_chunks():
        for token in set(lexical_tokens(chunk.embedding_text())):
            holders.setdefault(token, set()).add(chunk.id)
    query = "Hezbollah drone experts in Syria"
    tokens = list(dict.fromkeys(lexical_tokens(query)))
    # The document counts come from the index itself and agree with the chunks' own tokens.
    assert searcher.lexical.document_counts(tokens) == {t: len(holders.get(t, ())) for t in tokens}
    # At or below approximate_above every query word ranks, whatever the share.
    assert searcher.lexical.ranking_tokens(query) == tokens

    pruned = Searcher.open(hashing_settings.model_copy(update={"approximate_above": 0, "bm25_common_share": 0.3}))
    common_above = int(0.3 * searcher.chunk_count)
    common = {t for t in tokens if len(holders.get(t, ())) > common_above}
    assert common and common < set(tokens), "the query mixes common and selective words"
    # A misspelt word holds no rows: the common words still rank, so the query finds something.
    typo = pruned.lexical.ranking_tokens("Syria Qzxvwq")
    assert "syria" in typo and pruned.search("Syria Qzxvwq", k=3, mode="bm25")
    monkeypatch.setattr("index.lexical.MIN_CANDIDATES", 1)
    kept = pruned.lexical.ranking_tokens(query)
    assert set(kept) == set(tokens) - common
    # Ranked by the kept words alone: the same chunks as a query of those words on the exact index.
    hits = pruned.search(query, k=5, mode="bm25")
    alone = searcher.search(" ".join(kept), k=5, mode="bm25")
    assert [h.chunk.id for h in hits] and [h.chunk.id for h in hits] == [h.chunk.id for h in alone]
    only_common = {cid for t in common for cid in holders[t]} - {cid for t in kept for cid in holders.get(t, ())}
    assert only_common and not only_common & {h.chunk.id for h in pruned.search(query, k=50, mode="bm25")}
    # A query of common words only keeps its rarest word.
    assert len(pruned.lexical.ranking_tokens("Syria")) == 1
