from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "email_channel"
    verbose_name = "E-mail channel"

    def ready(self) -> None:
        # E-mail joins the channel registry beside TikTok Shop (marketplaces.channel): the inbox
        # reaches an e-mail ticket's mailbox only through it.
        from . import adapter

        adapter.register()
