from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Mailbox"

    def ready(self) -> None:
        # Registers the handlers for webhook types 13 and 14 with the marketplaces registry, and
        # the observer that writes decisions on returns and cancellations into ticket history.
        from tenants.services import register_tenant_setup

        from . import aftersale_history, webhooks  # noqa: F401
        from .snippets import starter_snippets_seed

        # A new organisation starts with the starter snippet library.
        register_tenant_setup(
            "inbox.starter_snippets", lambda tenant: starter_snippets_seed(tenant=tenant)
        )
