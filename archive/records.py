"""Typed records passed from the archive stage to the index stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of cleaned body text and where it sits in the raw file.

    `start_line` and `end_line` are 1-based and inclusive, in the raw file, so that
    `sed -n 'START,ENDp' ARCHIVE/SOURCE` shows the text.
    """

    text: str
    start_line: int
    end_line: int
    is_heading: bool = False


@dataclass(frozen=True)
class Article:
    """One cleaned article. A raw file may hold several."""

    id: str  # stable: derived from source and position in the file
    source: str  # path relative to the archive root, with forward slashes
    position: int  # 0-based order of the article inside its file
    title: str
    paragraphs: tuple[Paragraph, ...]
    title_line: int  # 1-based line of the title in the raw file
    caption: str = ""  # a photo caption, kept once as metadata
    outlet: str = ""  # the publishing outlet where the text names it
    date: str = ""  # ISO date (YYYY-MM-DD) where the text states one
    content_hash: str = ""  # sha256 of title and body; changes when the cleaned text changes

    @property
    def lines(self) -> tuple[int, int]:
        """First and last raw-file line of the article (title included)."""
        last = max((p.end_line for p in self.paragraphs), default=self.title_line)
        return (self.title_line, last)

    def span_of(self, first: int, last: int) -> tuple[int, int]:
        """First and last raw-file line of paragraphs `first`..`last` (0-based, inclusive)."""
        paragraphs = self.paragraphs[first : last + 1]
        return min(p.start_line for p in paragraphs), max(p.end_line for p in paragraphs)

    @property
    def body(self) -> str:
        """The cleaned body, paragraphs separated by blank lines."""
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not read, or read only in part, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class ArchiveScan:
    """Everything reading an archive produced: the articles and what was skipped."""

    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...] = ()
    warnings: tuple[SkippedFile, ...] = ()  # files read with replaced bytes and the like
    # Near-duplicate groups: each a tuple of article ids, the first being the one to show.
    duplicate_groups: tuple[tuple[str, ...], ...] = field(default=())

    def also_in(self, article_id: str) -> tuple[str, ...]:
        """Ids of the other articles in the same near-duplicate group."""
        for group in self.duplicate_groups:
            if article_id in group:
                return tuple(other for other in group if other != article_id)
        return ()
