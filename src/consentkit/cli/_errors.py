"""The command line's one boundary between errors and exit codes.

A command lets the library's errors through; :func:`exit_code` looks each up in
:data:`EXIT_CODES` along its class hierarchy (as httpx maps transport exceptions to its own), and
:func:`consentkit.cli.main` prints its one line. Where the same library error means "the command
could not run" for one command and "it ran and failed" for another, the command says so once with
:func:`unusable_input`, which re-raises the error as :class:`UnusableInput`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ..errors import ConsentKitError

__all__ = [
    "EXIT_CODES",
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "UnusableInput",
    "UsageError",
    "exit_code",
    "unusable_input",
]

EXIT_OK = 0
#: The command ran and failed, or a check found problems.
EXIT_FAILED = 1
#: Usage error, or an input the command cannot use (it did not run).
EXIT_UNUSABLE = 2
#: An unexpected error (a bug): ``EX_SOFTWARE``.
EXIT_INTERNAL = 70


class UsageError(ConsentKitError):
    """The command line's options do not go together."""


class UnusableInput(ConsentKitError):
    """An input the command cannot use: it did not run. Carries the library's error as ``cause``
    and its message."""

    def __init__(self, cause: ConsentKitError) -> None:
        self.cause = cause
        super().__init__(str(cause))


#: The exit code of each error class (the most specific class of an error that is listed wins).
EXIT_CODES: Mapping[type[BaseException], int] = {
    UsageError: EXIT_UNUSABLE,
    UnusableInput: EXIT_UNUSABLE,
    ConsentKitError: EXIT_FAILED,
    KeyboardInterrupt: 130,
    # The reader of our output went away (``consentkit fhir X | head``), as SIGPIPE would end us.
    BrokenPipeError: 141,
}


def exit_code(exc: BaseException) -> int | None:
    """The exit code :data:`EXIT_CODES` gives ``exc``, or ``None`` for an unexpected error."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return None


@contextmanager
def unusable_input() -> Iterator[None]:
    """Library errors raised inside the block mean the command could not run: they leave it as
    :class:`UnusableInput` (exit :data:`EXIT_UNUSABLE`)."""
    try:
        yield
    except UnusableInput:
        raise
    except ConsentKitError as exc:
        raise UnusableInput(exc) from exc
