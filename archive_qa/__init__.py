"""archive-qa: a searchable news archive that answers questions with citations."""

__version__ = "0.1.0"
