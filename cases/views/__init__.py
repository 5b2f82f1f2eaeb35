"""Views of the cases app, one module per area; each module owns its URLs."""
