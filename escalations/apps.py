from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Escalations"

    def ready(self) -> None:
        # The ticket's workbench gets an Escalations tab (inbox/sidebar.py: features append
        # their tabs; inbox itself knows nothing of escalations).
        from inbox.sidebar import SIDEBAR_TABS, SidebarTab

        if not any(tab.key == "escalations" for tab in SIDEBAR_TABS):
            SIDEBAR_TABS.append(
                SidebarTab(
                    key="escalations",
                    label="Escalations",
                    template="escalations/_ticket_case.html",
                )
            )
