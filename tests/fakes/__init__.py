"""Fakes that speak real protocols, for tests that drive real client libraries over loopback."""
