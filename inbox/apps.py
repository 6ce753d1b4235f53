from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Mailbox"

    def ready(self) -> None:
        # Registers the handlers for webhook types 13 and 14 with the marketplaces registry.
        from . import webhooks  # noqa: F401
