"""The package version: one number, read by rag/__init__.py, pyproject.toml and every record."""

__version__ = "0.1.0"
