"""Chunking invariants, on hand-built articles and on the sample archive with the real model tokenizer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.records import Article, Paragraph
from core.settings import BUNDLED_ARCHIVE, bundled_model_dir
from core.text import split_sentences
from index.chunk import chunk_article, chunk_articles
from index.embed import HashingEmbedder

COUNT = HashingEmbedder().count_tokens


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def article_from_lines(
    lines: list[str],
    *,
    title: str = "A Title",
    source: str = "a.txt",
    position: int = 0,
    headings: set[int] = frozenset(),
) -> Article:
    """An article whose paragraphs are the non-blank lines of `lines` (1-based line numbers)."""
    paragraphs = tuple(
        Paragraph(text=line, start_line=number, end_line=number, is_heading=number in headings)
        for number, line in enumerate(lines, start=1)
        if line.strip()
    )
    return Article(
        id=f"{source}#{position}",
        source=source,
        position=position,
        title=title,
        paragraphs=paragraphs,
        title_line=1,
        date="2024-01-02",
        outlet="Outlet",
    )


def sentence(n: int, words: int = 12) -> str:
    return " ".join(f"w{n}x{i}" for i in range(words)) + "."


def sentences_of(text: str) -> list[str]:
    return re.findall(r"w\d+x0[^.]*\.", text)


def assert_invariants(article: Article, chunks, raw_lines: list[str], count, max_tokens: int) -> None:
    first, last = min(p.start_line for p in article.paragraphs), max(p.end_line for p in article.paragraphs)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert (
            chunk.article_id == article.id and chunk.source == article.source and chunk.title == article.title
        )
        assert (chunk.date, chunk.outlet) == (article.date, article.outlet)
        assert first <= chunk.start_line <= chunk.end_line <= last
        assert count(chunk.embedding_text()) <= max_tokens
        assert not chunk.text.startswith(article.title)
        raw = squash(" ".join(raw_lines[chunk.start_line - 1 : chunk.end_line]))
        for piece in chunk.text.split("\n\n"):
            assert squash(piece) in raw, (chunk.id, piece[:60])
    # Nothing is lost: every sentence of the article appears in some chunk.
    joined = " ".join(squash(c.text) for c in chunks)
    for paragraph in article.paragraphs:
        for sentence in split_sentences(paragraph.text):
            start, end = sentence.start, sentence.end
            assert squash(paragraph.text[start:end]) in joined


def test_short_article_is_one_chunk_with_the_union_of_its_lines():
    lines = ["Title line", "", "First paragraph. It has two sentences.", "", "Second paragraph here."]
    article = article_from_lines(lines[2:], title="Title line")
    chunks = chunk_article(article, COUNT, max_tokens=256, target_tokens=180, overlap_sentences=1)
    assert len(chunks) == 1
    assert chunks[0].text == "First paragraph. It has two sentences.\n\nSecond paragraph here."
    assert (chunks[0].start_line, chunks[0].end_line) == (1, 3)
    assert chunks[0].embedding_text().startswith("Title line\n")
    assert "Title line" not in chunks[0].text


def test_long_article_respects_window_target_and_overlap():
    lines = []
    for n in range(30):
        lines += [f"{sentence(2 * n)} {sentence(2 * n + 1)}", ""]
    article = article_from_lines(lines, title="Some Long Title For The Window")
    chunks = chunk_article(article, COUNT, max_tokens=120, target_tokens=80, overlap_sentences=1)
    assert len(chunks) > 5
    assert_invariants(article, chunks, lines, COUNT, 120)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert sentences_of(after.text)[0] == sentences_of(before.text)[-1], "one sentence of overlap"
        assert after.start_line <= before.end_line


def test_overlap_of_two_sentences():
    lines = [f"{sentence(3 * n)} {sentence(3 * n + 1)} {sentence(3 * n + 2)}" for n in range(12)]
    article = article_from_lines(lines)
    chunks = chunk_article(article, COUNT, max_tokens=110, target_tokens=80, overlap_sentences=2)
    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert sentences_of(after.text)[:2] == sentences_of(before.text)[-2:]


def test_overlap_zero_means_disjoint_chunks():
    lines = [f"{sentence(n)} {sentence(n + 100)}" for n in range(20)]
    article = article_from_lines(lines)
    chunks = chunk_article(article, COUNT, max_tokens=100, target_tokens=60, overlap_sentences=0)
    texts = [squash(c.text) for c in chunks]
    assert squash(" ".join(texts)) == squash(" ".join(lines))


def test_paragraph_longer_than_window_splits_at_sentences_keeping_its_lines():
    long_paragraph = " ".join(sentence(n) for n in range(25))  # about 350 tokens on one raw line
    lines = ["Intro paragraph.", long_paragraph, "Outro paragraph."]
    article = article_from_lines(lines)
    chunks = chunk_article(article, COUNT, max_tokens=128, target_tokens=100, overlap_sentences=0)
    inside = [c for c in chunks if "w5x0" in c.text or "w20x0" in c.text]
    assert inside and all(c.start_line <= 2 <= c.end_line for c in inside)
    for chunk in chunks:
        for piece in chunk.text.split("\n\n"):
            if piece.startswith("w"):
                assert piece.endswith("."), "a split paragraph is cut at sentence ends"
    assert_invariants(article, chunks, lines, COUNT, 128)


def test_sentence_longer_than_window_is_cut_at_words():
    monster = " ".join(f"word{i}" for i in range(400)) + "."
    article = article_from_lines([monster])
    chunks = chunk_article(article, COUNT, max_tokens=64, target_tokens=50, overlap_sentences=1)
    assert len(chunks) >= 7
    assert all(COUNT(c.embedding_text()) <= 64 for c in chunks)
    assert squash(" ".join(c.text for c in chunks)).count("word399") >= 1


def test_heading_attaches_to_the_following_text():
    lines = [f"{sentence(n)} {sentence(n + 50)}" for n in range(6)]
    lines.insert(3, "A Heading Inside")
    article = article_from_lines(lines, headings={4})
    chunks = chunk_article(article, COUNT, max_tokens=80, target_tokens=50, overlap_sentences=0)
    holding = [c for c in chunks if "A Heading Inside" in c.text]
    assert len(holding) == 1
    assert holding[0].text.startswith("A Heading Inside\n\n"), "the heading opens the chunk it introduces"
    assert not any(c.text.endswith("A Heading Inside") for c in chunks)


@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_stacked_headings_never_end_a_chunk_nor_leave_a_repeat_only_chunk(overlap):
    lines = []
    for n in range(8):
        lines += [f"Section {n}", f"Part {n}", " ".join(sentence(10 * n + i, words=9) for i in range(5))]
    headings = {i + 1 for i, line in enumerate(lines) if line.startswith(("Section", "Part"))}
    article = article_from_lines(lines, headings=headings)
    chunks = chunk_article(article, COUNT, max_tokens=70, target_tokens=50, overlap_sentences=overlap)
    assert_invariants(article, chunks, lines, COUNT, 70)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert not after.text.split("\n\n")[-1].startswith(("Section", "Part"))
        assert squash(after.text) not in squash(before.text), "a chunk holding only repeated sentences"
    assert not chunks[-1].text.split("\n\n")[-1].startswith(("Section", "Part"))


def test_chunks_never_span_two_articles():
    first = article_from_lines([sentence(n) for n in range(10)], source="one.txt")
    second = article_from_lines([sentence(n + 10) for n in range(10)], source="two.txt", position=0)
    chunks = chunk_articles([first, second], COUNT, max_tokens=256, target_tokens=180, overlap_sentences=1)
    assert {c.article_id for c in chunks} == {first.id, second.id}
    for chunk in chunks:
        other = second if chunk.article_id == first.id else first
        assert not any(p.text in chunk.text for p in other.paragraphs)


def test_empty_article_gives_no_chunk():
    article = Article(id="x#0", source="x.txt", position=0, title="Only a title", paragraphs=(), title_line=1)
    assert chunk_article(article, COUNT) == []


@pytest.fixture(scope="module")
def model_token_counter():
    tokenizers = pytest.importorskip("tokenizers")
    tokenizer = tokenizers.Tokenizer.from_file(str(Path(bundled_model_dir()) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text).ids)


def test_sample_archive_chunks_fit_the_model_window(model_token_counter):
    from archive.load import scan_archive

    scan = scan_archive(BUNDLED_ARCHIVE)
    assert scan.articles
    for article in scan.articles:
        raw = (BUNDLED_ARCHIVE / article.source).read_text(encoding="utf-8").splitlines()
        chunks = chunk_article(
            article, model_token_counter, max_tokens=256, target_tokens=180, overlap_sentences=1
        )
        assert chunks
        assert_invariants(article, chunks, raw, model_token_counter, 256)
