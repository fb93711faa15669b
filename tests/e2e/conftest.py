"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from tests.e2e.test_telegram import bot

__all__ = ["bot"]
