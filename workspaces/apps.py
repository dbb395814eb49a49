from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    verbose_name = "Workspaces"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from .models import give_personal_workspace

        post_save.connect(
            give_personal_workspace,
            sender=get_user_model(),
            dispatch_uid="workspaces.personal_workspace",
        )
