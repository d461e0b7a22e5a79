"""Relais: live run-of-show for multi-site hybrid events."""

__version__ = "0.1.0"
