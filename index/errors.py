"""Domain errors. Their messages are written for users: the CLI prints them as
``error: …`` and the bot as an ephemeral reply. Anything else escaping is a bug."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base class of every error newsbot reports to a user."""


class ConfigError(NewsbotError):
    """A configuration value is missing, unknown or invalid. The message names the key."""


class CorpusError(NewsbotError):
    """The corpus folder is missing or holds nothing that can be indexed."""


class IndexMissingError(NewsbotError):
    """There is no built index where one was expected."""


class IndexCorruptError(NewsbotError):
    """An index directory exists but cannot be read."""


class ModelError(NewsbotError):
    """The embedding model cannot be loaded."""


class QuestionError(NewsbotError):
    """A question cannot be answered as asked (empty, too long, bad filter)."""


class IndexBusyError(NewsbotError):
    """Another build of the same index is running."""
