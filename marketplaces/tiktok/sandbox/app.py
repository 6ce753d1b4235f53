"""The sandbox's WSGI application: routing, the contract's request checks, faults and envelopes.

One app answers every "host" TikTok has: the auth host (/api/v2/token/*), the Open API host, the
consent pages, plus the sandbox's own control API (/_sandbox/*) and buyer page (/buyer/).
"""

from __future__ import annotations

import logging
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from marketplaces.tiktok.sandbox import db
from marketplaces.tiktok.sandbox.model import BASE_MARKER
from marketplaces.tiktok.signing import verify_request

logger = logging.getLogger("sandbox")

TIMESTAMP_BEHIND = 5 * 60  # §0: accepted from ~5 minutes behind ...
TIMESTAMP_AHEAD = 30  # ... to 30 seconds ahead of server time.

# UNVERIFIED: the contract names no general "invalid parameter" code. This one is kept outside the
# 105xxx/360xxx families, which clients treat as token problems (EcomPHP), so a malformed request
# is never mistaken for an expired token.
INVALID_PARAMETER = 40006

MESSAGES = {
    106001: "Invalid credentials. The `sign` query parameter is invalid.",
    106013: "Missing identifier. The `shop_cipher` query parameter is required to identify the "
    "target shop.",
    105002: "Expired credentials. The `access_token` or `x-tts-access-token` header has expired.",
    105005: "Access denied. The app is not authorized to access the endpoint because the access "
    "scopes granted for the app or the access token do not contain the required access "
    "scope for the endpoint.",
    36009002: "Too many requests. You've made too many requests in a short period of time.",
    36009003: "Internal error. Please try again. If the issue persists after multiple attempts, "
    "please contact platform support.",
    36009009: "Invalid path. The specified path does not match any available endpoint.",
    36009010: "Invalid method. The HTTP method used is not supported by this endpoint.",
}


class ApiError(Exception):
    def __init__(self, code: int, message: str | None = None, status: int = 200) -> None:
        super().__init__(message or MESSAGES.get(code, "Error"))
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        self.status = status


def invalid(message: str) -> ApiError:
    return ApiError(INVALID_PARAMETER, f"Invalid parameter. {message}", 400)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    environ: dict[str, Any]
    conn: sqlite3.Connection
    params: dict[str, str] = field(default_factory=dict)
    seller_id: int = 0
    shop: tuple[Any, ...] | None = (
        None  # (id, seller_id, cipher, authorized, im_user_id, name, avatar)
    )

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError as error:
            raise invalid("The request body is not valid JSON.") from error
        if not isinstance(value, dict):
            raise invalid("The request body must be a JSON object.")
        return value

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    @property
    def shop_id(self) -> str:
        assert self.shop is not None
        return self.shop[0]


@dataclass
class Response:
    status: int
    body: bytes | list[bytes]
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Response]

REQUIRED, REFUSED, OPTIONAL = "required", "refused", "optional"


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    kind: str  # "api" (signed, token), "auth" (token host), "plain" (pages, control)
    cipher: str = REQUIRED


_STATUS_TEXT = {
    200: "200 OK",
    201: "201 Created",
    204: "204 No Content",
    302: "302 Found",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    415: "415 Unsupported Media Type",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


def request_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + os.urandom(9).hex().upper()


def envelope(data: Any, message: str = "Success") -> Response:
    """code 0 envelope. `data` may be serialised already: bytes, or a list of byte chunks (the
    fast path for searches: rows are joined once, in `SandboxApp.__call__`)."""
    head = (
        b'{"code":0,"message":"'
        + message.encode()
        + b'","request_id":"'
        + request_id().encode()
        + b'","data":'
    )
    if isinstance(data, list):
        return Response(200, [head, *data, b"}"])
    raw = data if isinstance(data, bytes) else orjson.dumps(data)
    body = head + raw + b"}"
    return Response(200, body)


def error_response(error: ApiError) -> Response:
    return Response(
        error.status,
        orjson.dumps(
            {"code": error.code, "message": error.message, "request_id": request_id(), "data": {}}
        ),
    )


def json_response(value: Any, status: int = 200) -> Response:
    return Response(status, orjson.dumps(value))


class SandboxApp:
    """WSGI callable. One SQLite connection per thread; config and faults read per request so that
    every worker sees a control change at once."""

    def __init__(self, data_path: str) -> None:
        self.data_path = data_path
        self.local = threading.local()
        self.routes: list[Route] = []
        self.exact: dict[str, list[Route]] = {}
        conn = self.conn()
        self.app_key = db.meta_get(conn, "app_key") or ""
        self.app_secret = db.meta_get(conn, "app_secret") or ""
        self.service_id = db.meta_get(conn, "service_id") or ""
        from marketplaces.tiktok.sandbox import api, control, pages

        for module in (api, control, pages):
            module.register(self)

    @property
    def base_url(self) -> bytes:
        value = db.meta_get(self.conn(), "base_url") or ""
        return value.encode()

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = db.connect(self.data_path)
            self.local.conn = conn
        return conn

    def add(
        self, method: str, path: str, handler: Handler, kind: str = "api", cipher: str = REQUIRED
    ) -> None:
        if "{" in path:
            regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
            self.routes.append(Route(method, re.compile(f"^{regex}$"), handler, kind, cipher))
        else:
            route = Route(method, re.compile(re.escape(path)), handler, kind, cipher)
            self.exact.setdefault(path, []).append(route)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, whether the path exists with some method)."""
        exact = self.exact.get(path)
        if exact:
            for route in exact:
                if route.method == method:
                    return route, {}, True
            return None, {}, True
        known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                if route.method == method:
                    return route, found.groupdict(), True
                known = True
        return None, {}, known

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        response = self.handle(environ)
        body = response.body if isinstance(response.body, bytes) else b"".join(response.body)
        if BASE_MARKER.encode() in body:
            body = body.replace(BASE_MARKER.encode(), self.base_url)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(body))),
            *response.headers,
        ]
        start_response(_STATUS_TEXT.get(response.status, f"{response.status} Status"), headers)
        return [body]

    def handle(self, environ: dict[str, Any]) -> Response:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "") or "/"
        route, params, path_known = self.match(method, path)
        if route is None:
            if path_known:
                return error_response(ApiError(36009010, status=405))
            return error_response(ApiError(36009009, status=404))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        request = Request(method, path, query, headers, body, environ, self.conn(), params)
        try:
            if route.kind in ("api", "auth"):
                self.apply_faults(request)
            if route.kind == "api":
                self.verify(request, route)
            return route.handler(request)
        except ApiError as error:
            return error_response(error)
        except Exception:
            # A sandbox bug still answers like TikTok's gateway would: 5xx with 36009003.
            logger.exception("sandbox: unhandled error on %s %s", method, path)
            return error_response(ApiError(36009003, status=500))

    def apply_faults(self, request: Request) -> None:
        faults = db.json_meta_get(request.conn, "faults", db.DEFAULT_FAULTS)
        if faults["latency_ms"]:
            time.sleep(float(faults["latency_ms"]) / 1000)
        if faults["rate_limit_ratio"] and random.random() < float(faults["rate_limit_ratio"]):
            raise ApiError(36009002, status=429)
        if faults["error_ratio"] and random.random() < float(faults["error_ratio"]):
            raise ApiError(36009003, status=500)

    def verify(self, request: Request, route: Route) -> None:
        """§0 and §2: app_key, sign present, timestamp window, signature, token, shop_cipher."""
        query = request.query
        conn = request.conn
        if query.get("app_key") != self.app_key:
            raise ApiError(36009004, "Invalid credentials. Invalid `app_key` query parameter.", 401)
        if not query.get("sign"):
            raise ApiError(
                36009004,
                "Missing credentials. The request does not include a "
                "required signature in the query.",
                401,
            )
        try:
            timestamp = int(query.get("timestamp", ""))
        except ValueError:
            raise ApiError(
                36009004,
                "Invalid timestamp. The value of the `timestamp` query "
                "parameter must not be lesser than 0.",
                401,
            ) from None
        now = time.time()
        if timestamp < 0:
            raise ApiError(
                36009004,
                "Invalid timestamp. The value of the `timestamp` query "
                "parameter must not be lesser than 0.",
                401,
            )
        if timestamp < now - TIMESTAMP_BEHIND:
            raise ApiError(
                36009004,
                "Invalid timestamp. The value of the `timestamp` query "
                "parameter must not be earlier than 5 minutes before the current "
                "time.",
                401,
            )
        if timestamp > now + TIMESTAMP_AHEAD:
            raise ApiError(
                36009004,
                "Invalid timestamp. The value of the `timestamp` query "
                "parameter must not exceed the current time by more than 30 seconds.",
                401,
            )
        content_type = request.headers.get("content-type", "")
        signed_body = None if content_type.startswith("multipart/form-data") else request.body
        if not verify_request(
            self.app_secret, request.path, query, signed_body or None, query["sign"]
        ):
            raise ApiError(106001, status=401)
        if request.body and not content_type.startswith(("application/json", "multipart/")):
            raise ApiError(
                36009022,
                "Invalid request format. The request body format must be `application/json` "
                "for structured data or `multipart/form-data` for binary files.",
                415,
            )
        token = request.headers.get("x-tts-access-token", "")
        row = (
            conn.execute(
                "SELECT seller_id, expires_at, revoked FROM tokens WHERE token = ? "
                "AND kind = 'access'",
                (token,),
            ).fetchone()
            if token
            else None
        )
        if row is None or row[2]:
            raise ApiError(
                36009004, "Invalid credentials. The `x-tts-access-token` header is invalid.", 401
            )
        if row[1] <= now:
            raise ApiError(105002, status=401)
        request.seller_id = row[0]
        cipher = query.get("shop_cipher")
        if route.cipher == REFUSED and cipher is not None:
            raise ApiError(
                36009004,
                "Unexpected identifier. The `shop_cipher` query parameter is "
                "not required for this request.",
                400,
            )
        if route.cipher == REQUIRED and not cipher:
            raise ApiError(106013, status=400)
        if cipher:
            shop = conn.execute(
                "SELECT id, seller_id, cipher, authorized, im_user_id, name, "
                "avatar FROM shops WHERE cipher = ?",
                (cipher,),
            ).fetchone()
            # A cipher is only good with a token of the seller who owns the shop.
            if shop is None or shop[1] != request.seller_id:
                raise ApiError(
                    36009004,
                    "Invalid identifier. The `shop_cipher` query parameter is invalid.",
                    400,
                )
            if not shop[3]:
                # Deauthorized by the seller: the app lost access to this shop.
                raise ApiError(105005, status=403)
            request.shop = shop


def make_app(data_path: str) -> SandboxApp:
    return SandboxApp(data_path)
