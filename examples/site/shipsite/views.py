"""The index page and the health check a deploy waits for before calling a host ready."""

import json
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from notes.models import Note, Post


def release_info() -> dict:
    """Release id and revision of the running code, from the release root the deploy wrote.

    releases/<id>/release.json has both; a bare artifact has only manifest.json's revision.
    """
    root = Path(settings.BASE_DIR).parent
    for name, keys in (("release.json", ("id", "revision")), ("manifest.json", (None, "revision"))):
        try:
            data = json.loads((root / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        release_key, revision_key = keys
        return {"release": data.get(release_key) if release_key else None, "revision": data.get(revision_key)}
    return {"release": None, "revision": None}


def health(request: HttpRequest) -> JsonResponse:
    """200 with the release when the code and its database both answer; 503 otherwise."""
    info = release_info()
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as e:
        return JsonResponse({"status": "error", "error": type(e).__name__, **info}, status=503)
    return JsonResponse({"status": "ok", **info})


def index(request: HttpRequest) -> JsonResponse:
    info = release_info()
    return JsonResponse({"site": "shipsite", "release": info["release"], "notes": Note.objects.count(),
                         "published_posts": Post.objects.filter(published=True).count()})
