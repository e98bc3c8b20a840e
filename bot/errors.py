"""The bot's exception tree: one base, three families a caller can catch by what it means.

Every error the bot raises on purpose derives from :class:`TriageBotError`; its message is a
sentence fit to show as it is (to the therapist, the operator or a log), never a traceback.
Each concrete error is defined beside the code that raises it; this module holds the base
and the families, so that it imports nothing and every layer can use it::

    TriageBotError
    ├── SetupError                what the therapist or operator wrote is wrong: fix it and retry
    │   ├── FlowError                 bot.flow             a flow file: every problem with its line
    │   ├── ConditionSyntaxError      bot.flow.conditions  one condition (reported in a FlowError)
    │   ├── ConfigError               bot.config           a setting in the environment or .env
    │   ├── ScenarioFileError         bot.scenarios        a scenario file
    │   ├── AnswerError               bot.scenarios        a --answer of flows try
    │   ├── ReviewFileError           bot.review_files     a file the review page reads
    │   ├── CopyError                 bot.practice_copy    the practice's copy of the flow
    │   ├── FlowNotFound, TryError    bot.cli              a command's arguments
    │   └── LinkError                 bot.link             the share link's arguments and files
    │       ├── SourceError, UsernameError, SymlinkError
    │       └── UsernameLookupError   (also a TransportError: Telegram did not say)
    ├── StorageError              bot.storage          the database or its files; nothing half-done
    │   ├── StorageUnavailable        bot.storage          locked, disk full, I/O: try again later
    │   ├── SessionError              bot.engine           a stored conversation cannot be read back
    │   ├── DatabaseProblem           bot.ops.database     the file is missing, foreign or read-only
    │   ├── DatabaseInUse             bot.ops.dblock       another process holds the database
    │   └── BackupError               bot.ops.backup       a backup or restore could not be done
    ├── TransportError            Telegram, the network or a port: the bot cannot talk
    │   └── StartupError              bot.telegram.runtime the bot cannot start: one sentence
    └── NoRouteError              bot.flow             a checked flow found no way on: a bug

Errors keep the built-in base they had where callers rely on it (``ValueError`` for bad
values, ``RuntimeError`` for the bug), so ``except ValueError`` still catches them.
python-telegram-bot's own ``TelegramError`` never leaves the code that calls Telegram
(``bot.telegram``, ``bot.ops.doctor``, ``bot.link``): it is handled there or turned into one
of these. docs/architecture.md shows the same tree; tests/test_errors.py holds both to the code.
"""

from __future__ import annotations

__all__ = ["SetupError", "StorageError", "TransportError", "TriageBotError"]


class TriageBotError(Exception):
    """Base of every error the bot raises on purpose; ``str()`` is a sentence for a person."""


class SetupError(TriageBotError):
    """Something the therapist or operator wrote is wrong (a flow, a setting, a file, a
    command's arguments); the message says what and, where it can, how to fix it."""


class StorageError(TriageBotError):
    """The database (or a backup of it) cannot be used as asked; ``str(error)`` is one sentence
    fit to show as it is."""


class TransportError(TriageBotError):
    """The bot cannot talk to Telegram (or listen where it should)."""
