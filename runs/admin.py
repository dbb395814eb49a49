from django.contrib import admin

from .models import Artifact, Run, RunEvent


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "team_name", "owner", "status", "created_at", "cost_usd")
    list_filter = ("status",)
    search_fields = ("team_name", "owner__username")


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    list_display = ("run", "seq", "type", "agent", "ts")
    list_filter = ("type",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the audit trail is append-only

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ("name", "run", "content_type", "size", "created_at")
