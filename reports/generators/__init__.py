"""One generator per document (see base.py); importing the package
registers them all in REGISTRY."""

from . import (
    approval,
    complaints,
    cooperative,
    household,
    notices,
    payments,
    statement,
    verification,
)
from .base import REGISTRY, Document, Generator, Table

__all__ = [
    "REGISTRY",
    "Document",
    "Generator",
    "Table",
    "approval",
    "complaints",
    "cooperative",
    "household",
    "notices",
    "payments",
    "statement",
    "verification",
]
