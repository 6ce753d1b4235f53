from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Search over tickets and orders (no models of its own: the index lives on the tickets)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
