"""Errors users see: one line, naming the field and what is allowed."""

from __future__ import annotations


class ConfigError(ValueError):
    """Invalid user input (config key, value, file or id).

    The message is a single line. The CLI prints it as ``error: <message>`` and exits with
    code 2 without a traceback.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
