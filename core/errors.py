"""Domain errors. Library code raises these with data; the CLI and the app each render them once.

An error carries its `reason` (what is wrong, one line), and where it applies the `index_dir` and the
`fix`: the `archive-qa build` command that mends it, as data, so the CLI can print it shell-quoted and
the app can offer it as a button. Nobody parses an error's text.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildCommand:
    """The `archive-qa build` invocation that creates or repairs an index."""

    archive_dir: Path
    index_dir: Path
    full: bool = False

    def argv(self) -> list[str]:
        argv = ["archive-qa", "build", "--archive", str(self.archive_dir), "--index", str(self.index_dir)]
        return argv + (["--full"] if self.full else [])

    def shell(self) -> str:
        """The command as one line a shell runs as is."""
        return shlex.join(self.argv())


class ArchiveError(Exception):
    """Base class for every error archive-qa reports to a user."""

    def __init__(self, reason: str, *, index_dir: Path | None = None, fix: BuildCommand | None = None):
        super().__init__(reason)
        self.reason = reason
        self.index_dir = index_dir
        self.fix = fix

    def one_line(self) -> str:
        """The reason and, when there is one, the command that fixes it: what a terminal shows."""
        reason = " ".join(self.reason.split())
        return f"{reason}; fix it with: {self.fix.shell()}" if self.fix else reason


class ArchiveNotFound(ArchiveError):
    """The archive folder does not exist or is not a folder."""


class IndexMissing(ArchiveError):
    """No index has been built at the given location yet."""


class IndexCorrupt(ArchiveError):
    """The index directory exists but its files are unreadable or inconsistent."""


class IndexMismatch(ArchiveError):
    """The index was built with another model, chunker or format version."""


class IndexLocked(ArchiveError):
    """Another build holds the index lock."""


class ModelUnavailable(ArchiveError):
    """An embedding or language model could not be loaded from local files."""


class AnswererUnavailable(ArchiveError):
    """The configured generative backend cannot be reached or loaded."""


class InvalidQuery(ArchiveError):
    """A search option is malformed: an unknown ranking mode, a date that is not YYYY[-MM[-DD]]."""


class InvalidSettings(ArchiveError):
    """A settings file, variable or flag holds an unknown key or a value of the wrong kind."""
