from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # Registers the handlers for webhook types 1, 11 and 12 with the marketplaces registry.
        from . import webhooks  # noqa: F401
