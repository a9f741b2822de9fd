"""The one exception root: conditions under which stdkit cannot continue."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class StdkitError(Exception):
    """Something stdkit cannot continue past; the CLI prints it as one line."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(StdkitError):
    """The command line names something that does not exist or cannot be used."""


class InputError(StdkitError):
    """An input file or folder cannot be read safely."""


class RefusedError(StdkitError):
    """A write was refused, e.g. because it would overwrite existing work."""
