"""The version of consentkit, in a module of its own: modules inside the package import it from
here, never from the package root (whose ``__init__`` imports them)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
