"""Where and as whom the TikTok Shop client talks; buildable with or without Django."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TikTokConfig:
    app_key: str
    app_secret: str = field(repr=False)
    service_id: str = ""
    auth_base_url: str = "https://auth.tiktok-shops.com"
    api_base_url: str = "https://open-api.tiktokglobalshop.com"
    authorize_url_us: str = "https://services.us.tiktokshop.com/open/authorize"
    authorize_url_row: str = "https://services.tiktokshop.com/open/authorize"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # Retries after the first attempt, for rate-limit and server errors only.
    max_retries: int = 5
    # Backoff: base * 2**attempt, half of it jittered, capped (contract §3.3).
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    # Outgoing images with more pixels are refused before decoding (IMAGE_MAX_PIXELS).
    image_max_pixels: int = 25_000_000

    @classmethod
    def from_settings(cls) -> TikTokConfig:
        """The TIKTOK_* Django settings (config/settings.py)."""
        from django.conf import settings

        return cls(
            app_key=settings.TIKTOK_APP_KEY,
            app_secret=settings.TIKTOK_APP_SECRET,
            service_id=settings.TIKTOK_SERVICE_ID,
            auth_base_url=settings.TIKTOK_AUTH_BASE_URL,
            api_base_url=settings.TIKTOK_API_BASE_URL,
            authorize_url_us=settings.TIKTOK_AUTHORIZE_URL_US,
            authorize_url_row=settings.TIKTOK_AUTHORIZE_URL_ROW,
            connect_timeout=float(settings.TIKTOK_CONNECT_TIMEOUT),
            read_timeout=float(settings.TIKTOK_READ_TIMEOUT),
            max_retries=int(settings.TIKTOK_MAX_RETRIES),
            image_max_pixels=int(settings.IMAGE_MAX_PIXELS),
        )
