from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        # Triage hooks into the mailbox; inbox never imports triage (tests/test_import_rules.py).
        from inbox import display, sidebar
        from inbox.signals import buyer_messages_stored
        from tenants.services import register_tenant_setup

        from .labels import Intent
        from .signals import on_buyer_messages_stored
        from .suggestions import starter_replies_seed

        buyer_messages_stored.connect(on_buyer_messages_stored, dispatch_uid="triage.label")
        display.INTENT_LABELS.update(dict(Intent.choices))
        # The marker, its correction menu and the suggested replies live in the ticket bar (a
        # menu panel floats: the composer and the thread keep their sizes).
        if "triage/_ticket_bar.html" not in sidebar.TICKET_BAR_PARTS:
            sidebar.TICKET_BAR_PARTS.append("triage/_ticket_bar.html")
        # A new organisation's snippet library covers every intent.
        register_tenant_setup(
            "triage.starter_replies", lambda tenant: starter_replies_seed(tenant=tenant)
        )
