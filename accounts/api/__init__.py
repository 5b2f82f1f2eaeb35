"""The REST API under /api/v1/: what a user may read and do on the pages, for
other systems (the higher union's, mobile tools) acting with that user's
token. Each app keeps its own endpoints in `<app>/api.py`; this package holds
what they share: tokens, authentication, pagination, the rate limit, the
audit row of every call, the error format, and the URLs that collect them."""
