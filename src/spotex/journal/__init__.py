"""Durable command journal: records are committed (fsynced) before clients are answered."""
from spotex.journal.sqlite import SqliteJournal

__all__ = ["SqliteJournal"]
