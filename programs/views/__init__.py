"""Views of the programs app, one module per use case; each owns its urlpatterns."""
