"""The base class of the errors a user can hit and fix."""

from __future__ import annotations


class JetError(Exception):
    """Its message says what was wrong and what to do: `jet` shows it to the user as is."""
