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


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Pages get the 404 page; /api/ gets the API's error body."""
    from api.errors import is_api_request, json_404

    if is_api_request(request):
        return json_404(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """/api/ gets the API's error body. Pages get Django's 500 page, whose styles are inline on
    purpose (it must render when static files or the database are the problem): the
    Content-Security-Policy admits exactly that <style> by its hash, and nothing else inline."""
    from api.errors import is_api_request, json_500

    if is_api_request(request):
        return json_500(request)
    response = defaults.server_error(request)
    hashes = [
        f"'sha256-{base64.b64encode(hashlib.sha256(style).digest()).decode()}'"
        for style in _STYLE_ELEMENT.findall(response.content)
    ]
    if hashes:
        response._csp_update = {"style-src": hashes}  # type: ignore[attr-defined]
    return response
