import base64
import hashlib
import re

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

_STYLE_ELEMENT = re.compile(rb"<style>(.*?)</style>", re.S)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and compose: the process is up and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, whose styles are inline on purpose (it must render when static files or
    the database are the problem): the Content-Security-Policy admits exactly that <style> by its
    hash, and nothing else inline."""
    response = defaults.server_error(request)
    hashes = [
        f"'sha256-{base64.b64encode(hashlib.sha256(style).digest()).decode()}'"
        for style in _STYLE_ELEMENT.findall(response.content)
    ]
    if hashes:
        response._csp_update = {"style-src": hashes}  # type: ignore[attr-defined]
    return response
