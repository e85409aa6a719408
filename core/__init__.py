"""Core of the sales agent platform: settings, data layer and every use case."""

__version__ = "0.1.0"
