"""The s2sbench version, in the core layer so that every stage can record it."""

__version__ = "0.1.0"
