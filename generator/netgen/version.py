"""netgen's version, as the installed distribution states it (no part of the pipeline is imported)."""

from importlib.metadata import version

__version__ = version("netgen")
