"""WSGI entry point: `gunicorn shipsite.wsgi` with cwd = the release's app/ dir."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipsite.settings")

application = get_wsgi_application()
