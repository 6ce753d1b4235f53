"""Authorization (§1): the consent page, token get and refresh, the authorized shops."""

from __future__ import annotations

import enum
from urllib.parse import urlencode

from marketplaces.records import Shop, TokenGrant
from marketplaces.tiktok import mapping

from .transport import Transport


class Market(enum.StrEnum):
    """Which consent page a seller is sent to (§0): the US one, or the rest of the world's."""

    US = "US"
    ROW = "ROW"


class AuthorizationApi(Transport):
    """Authorization (§1)."""

    def authorize_url(self, *, market: Market | str, state: str) -> str:
        """The consent page a seller opens; TikTok redirects back with `code` and `state`."""
        base = {
            Market.US: self.config.authorize_url_us,
            Market.ROW: self.config.authorize_url_row,
        }[Market(str(market).upper())]
        query = urlencode({"service_id": self.config.service_id, "state": state})
        return f"{base}{'&' if '?' in base else '?'}{query}"

    def get_token(self, *, auth_code: str) -> TokenGrant:
        """Exchange the callback's `code` for tokens (§1.2; grant type `authorized_code`)."""
        return mapping.token_grant(
            self._auth_call(
                "/api/v2/token/get", {"auth_code": auth_code, "grant_type": "authorized_code"}
            )
        )

    def refresh_token(self, *, refresh_token: str) -> TokenGrant:
        """New access and refresh tokens (§1.3): persist both."""
        return mapping.token_grant(
            self._auth_call(
                "/api/v2/token/refresh",
                {"refresh_token": refresh_token, "grant_type": "refresh_token"},
            )
        )

    def authorized_shops(self, *, access_token: str) -> list[Shop]:
        """The shops a token may act for (§1.5); signed, without `shop_cipher`."""
        data = self._call("GET", "/authorization/202309/shops", access_token=access_token)
        return [mapping.shop(item) for item in mapping.dicts(data.get("shops"))]
