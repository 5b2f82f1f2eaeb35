"""Where every app's `api.py` puts its endpoints: view sets on the router,
single views (e.g. the statistics) as paths."""

from django.urls import URLPattern
from rest_framework.routers import SimpleRouter

router = SimpleRouter()
paths: list[URLPattern] = []
