"""Views of the reports app, one module per use case; each owns its urlpatterns."""
