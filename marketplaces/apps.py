from django.apps import AppConfig


class MarketplacesConfig(AppConfig):
    name = "marketplaces"
    verbose_name = "Stores and marketplaces"

    def ready(self) -> None:
        # Each channel registers what it can send and how to reach a store through it.
        from .tiktok import adapter as tiktok

        tiktok.register()
