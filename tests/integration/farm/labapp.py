"""A tiny WSGI app the farm tests serve from each lab host's <deploy_to>/current/app.
It answers with the host and the release it runs from; /slow/?s=N holds the request N seconds."""

import os
import time
from urllib.parse import parse_qs

HERE = os.path.realpath(os.path.dirname(__file__))  # .../hosts/<host>/site/releases/<id>/app
RELEASE = os.path.basename(os.path.dirname(HERE))
HOST = HERE.split("/hosts/")[1].split("/")[0] if "/hosts/" in HERE else "?"


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/slow/":
        time.sleep(float(parse_qs(environ.get("QUERY_STRING", "")).get("s", ["1"])[0]))
    body = f"{HOST} {RELEASE}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
