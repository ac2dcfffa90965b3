"""odek: an in-process cron scheduler for LLM-agent tasks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("odek")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
