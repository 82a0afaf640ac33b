"""Domain errors. Library code raises these; the CLI and the app turn them into one clear line."""


class ArchiveError(Exception):
    """Base class for every error archive-qa reports to a user."""


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
