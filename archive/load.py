"""Reading a whole archive folder into clean articles: walk, read, split, clean, find near-duplicates.

A bad file never stops the scan: it is skipped with a reason, and every other file is still read.
"""

from __future__ import annotations

from pathlib import Path

from archive.clean import Hints, clean_segment, to_article
from archive.dedup import near_duplicate_groups
from archive.html import lines_from_html
from archive.lines import lines_from_text
from archive.markdown import lines_from_markdown
from archive.records import ArchiveScan, Article, SkippedFile
from archive.split import BLANK_RUN_BOUNDARY, Segment, split_segments
from archive.walk import walk_archive
from core.errors import ArchiveNotFound
from core.files import Unreadable, read_text

FORMATS = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
           ".html": "html", ".htm": "html"}
NO_ARTICLE = "no recognisable article (nothing left after cleaning)"


def articles_from_text(text: str, source: str, file_format: str = "text") -> tuple[list[Article], str]:
    """The articles in one file's decoded text, and a warning ("" if none). Pure: no file access."""
    hints = Hints()
    warning = ""
    if file_format == "html":
        html = lines_from_html(text)
        segments, hints = [Segment(tuple(html.lines))], html.hints
        if html.unplaced:
            warning = (f"{html.unplaced} extracted paragraph(s) could not be located in the raw HTML "
                       "and were left out")
    elif file_format == "markdown":
        markdown = lines_from_markdown(text)
        segments, hints = split_segments(markdown.lines), markdown.hints
    else:
        segments = split_segments(lines_from_text(text), split_on_headings=False)
    articles: list[Article] = []
    cut_short = False
    for number, segment in enumerate(segments):
        # Blank lines inside a comment thread or the tail after a paywall do not start a new article.
        if cut_short and segment.boundary == BLANK_RUN_BOUNDARY:
            continue
        cleaned = clean_segment(list(segment.lines), hints if number == 0 else Hints())
        cut_short = bool(cleaned.ended_by)
        article = to_article(cleaned, source, len(articles))
        if article is not None:
            articles.append(article)
    return articles, warning


def read_articles(path: Path, source: str, max_file_bytes: int) -> tuple[list[Article], str, str]:
    """(articles, skip reason, warning) for one file: the unit of work of a scan and of an index build."""
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        kind = path.suffix.lower() or "(no extension)"
        return [], f"unsupported file type {kind}", ""
    decoded = read_text(path, max_file_bytes)
    if isinstance(decoded, Unreadable):
        return [], decoded.reason, ""
    try:
        articles, note = articles_from_text(decoded.text, source, file_format)
    except Exception as error:  # a parser bug on one odd file must not stop the archive
        return [], f"could not be parsed ({type(error).__name__}: {error})", decoded.warning
    warning = "; ".join(part for part in (decoded.warning, note) if part)
    return articles, ("" if articles else NO_ARTICLE), warning


def scan_archive(archive_dir: Path, *, max_file_bytes: int = 20_000_000,
                 near_duplicate_threshold: float = 0.7) -> ArchiveScan:
    """Read every .txt, .md and .html/.htm file under `archive_dir` (recursively, sorted by relative
    path) into clean articles. Bad files are skipped with a reason; files read with replaced bytes are
    listed as warnings. Raises ArchiveNotFound if the folder does not exist or is not a folder."""
    root = Path(archive_dir)
    if not root.exists():
        raise ArchiveNotFound(f"archive folder not found: {root}")
    if not root.is_dir():
        raise ArchiveNotFound(f"archive path is not a folder: {root}")
    walked = walk_archive(root)
    skipped = list(walked.skipped)
    articles: list[Article] = []
    warnings: list[SkippedFile] = []
    for file in walked.files:
        source = file.source
        found, reason, warning = read_articles(file.path, source, max_file_bytes)
        articles.extend(found)
        if reason:
            skipped.append(SkippedFile(source, reason))
        if warning:
            warnings.append(SkippedFile(source, warning))
    skipped.sort(key=lambda item: item.source)
    groups = near_duplicate_groups(articles, near_duplicate_threshold)
    return ArchiveScan(tuple(articles), tuple(skipped), tuple(warnings), groups)
