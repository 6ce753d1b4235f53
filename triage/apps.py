from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        from inbox.signals import buyer_messages_stored

        from .signals import on_buyer_messages_stored

        buyer_messages_stored.connect(on_buyer_messages_stored, dispatch_uid="triage.label")
