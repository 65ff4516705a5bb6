"""Errors that reach the user as one clear line and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: a file, a field or an option.

    The message is shown as it is, on one line, so it must name the
    file (and line or field) and say how to fix it.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
