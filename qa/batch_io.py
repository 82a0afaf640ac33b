"""Files of many questions in, one row per question out: reading TXT/CSV/JSONL, writing JSONL/CSV, resuming.

A re-run with the same `--out` skips the questions whose rows are already there (a question asked twice in
the input is asked twice: rows are matched by text and count). A row cut short by an interruption (the
file does not end with a newline) is dropped and asked again. A CSV written by an earlier version, whose
columns are a subset of today's (`ask` before the phrase columns), is rewritten with today's header, its rows
kept and the new cells empty; a CSV with other columns (another command's, or edited) is refused.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from core.errors import ArchiveError

TEXT_COLUMNS = ("question", "query")  # the column (CSV) or key (JSONL) holding each item


class BatchFileError(ArchiveError):
    """A questions file or an output file cannot be read or has no usable column."""


def _item_from(record: dict[str, Any], path: Path, line: int) -> str:
    for key in TEXT_COLUMNS:
        if isinstance(record.get(key), str):
            return record[key]
    raise BatchFileError(f"{path}:{line} has no {' or '.join(TEXT_COLUMNS)!s} field")


def read_items(path: Path) -> list[str]:
    """The questions (or queries) of a .txt (one per line), .csv (a question/query column) or .jsonl file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise BatchFileError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise BatchFileError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from error
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        column = next((name for name in TEXT_COLUMNS if name in (reader.fieldnames or [])), None)
        if column is None:
            raise BatchFileError(f"{path} has no {' or '.join(TEXT_COLUMNS)} column (columns: {reader.fieldnames})")
        items = [row[column] or "" for row in reader]
    elif suffix in (".jsonl", ".ndjson"):
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BatchFileError(f"{path}:{number} is not JSON ({error.msg})") from error
            items.append(record if isinstance(record, str) else _item_from(record, path, number))
    else:
        items = text.splitlines()
    return [item.strip() for item in items if item and item.strip()]


def _complete_text(path: Path) -> str:
    """The output file's text up to its last full row (rows end with a newline)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as error:
        raise BatchFileError(f"cannot read the output file {path} to resume: {error}") from error
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return text


class RowWriter:
    """Appends rows to a JSONL or CSV file (or JSONL to stdout), remembering the rows already written."""

    def __init__(self, out: Path | None, csv_columns: Sequence[str], key: str) -> None:
        self.out = out
        self.key = key
        self.is_csv = out is not None and out.suffix.lower() == ".csv"
        self._columns = list(csv_columns)
        self.added_columns: tuple[str, ...] = ()  # columns an earlier version's CSV lacked, added on resuming
        self.done: Counter[str] = Counter()
        self._handle: IO[str] = sys.stdout
        if out is not None:
            self._open(out)

    def _open(self, out: Path) -> None:
        text = _complete_text(out)
        if not text.strip():
            text = ""
        rows: list[dict[str, Any]]
        if self.is_csv:
            reader = csv.DictReader(io.StringIO(text))
            rows = list(reader)
            if text and reader.fieldnames != self._columns:
                text = self._upgraded(out, list(reader.fieldnames or []), rows)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        self.done.update(str(row.get(self.key, "")) for row in rows)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")  # drops a half-written last row
        self._handle = out.open("a", encoding="utf-8", newline="")
        if self.is_csv and not text:
            csv.writer(self._handle, lineterminator="\n").writerow(self._columns)

    def _upgraded(self, out: Path, header: list[str], rows: list[dict[str, Any]]) -> str:
        """The text of an earlier version's CSV under today's header (the cells it lacked empty); a CSV whose
        columns are not a subset of today's is refused rather than appended to with misplaced cells."""
        if any(None in row for row in rows):  # csv.DictReader's key for the cells beyond the header's
            raise BatchFileError(f"cannot resume {out}: a row has more cells than its header has columns")
        if self.key not in header or not set(header) <= set(self._columns):
            raise BatchFileError(
                f"cannot resume {out}: its columns ({', '.join(map(str, header))}) are not those this command "
                f"writes ({', '.join(self._columns)}); write to another --out file, or move {out.name} away")
        self.added_columns = tuple(column for column in self._columns if column not in header)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, self._columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    def already_done(self, item: str) -> bool:
        """True (once per written row) when `item` has a row from an earlier run."""
        if self.done[item] > 0:
            self.done[item] -= 1
            return True
        return False

    def write(self, row: dict[str, Any], flat: dict[str, Any]) -> None:
        """Write one row: `row` as a JSON line, or `flat` (one value per CSV column) as a CSV line."""
        if self.is_csv:
            csv.writer(self._handle, lineterminator="\n").writerow([flat.get(column, "") for column in self._columns])
        else:
            self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not sys.stdout:
            self._handle.close()
