import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# Load WeasyPrint and the CJK fonts while the worker waits for its first
# requests, so the first PDF is made as fast as the next ones.
from reports.pdf import warm_up_in_background  # noqa: E402 - needs the apps loaded

warm_up_in_background()
