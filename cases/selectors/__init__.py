"""Reads shared by the cases views, scoped to the user; one module per use case."""
