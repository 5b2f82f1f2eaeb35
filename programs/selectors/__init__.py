"""Reads shared by the programs views, scoped to the user; one module per use case."""
