"""Placeholder: replaced by its owner."""

COMMANDS: list = []
