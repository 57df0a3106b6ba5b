"""The two ways a backtest request goes wrong: refused up front, or failed while running."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class InvalidRequest(ValueError):
    """The request cannot be run; ``errors`` maps each offending field to its messages.

    Field names are the request's (``params.fast``, ``grid.slow``, ``constraint``), so the
    API can answer 422 with them and the CLI can print them on one line.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__(
            "; ".join(
                f"{field}: {message}" if field else message
                for field, messages in self.errors.items()
                for message in messages
            )
        )


class RunFailed(Exception):
    """A run stopped for a reason its user can act on (no candles in the range...); ``str()`` says which."""
