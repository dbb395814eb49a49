from django.contrib import admin

from .models import ApiToken, ModelConfig, Team, TeamVersion


class TeamVersionInline(admin.TabularInline):
    model = TeamVersion
    fields = ("number", "is_valid", "message", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "pattern", "version", "is_valid", "updated_at")
    list_filter = ("pattern", "is_valid")
    search_fields = ("name", "owner__username")
    # The spec changes only through save_version (validated, versioned), never by hand here.
    readonly_fields = ("spec", "version", "is_valid", "pattern")
    inlines = [TeamVersionInline]


@admin.register(ModelConfig)
class ModelConfigAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "provider", "model", "credential", "secret", "base_url")
    list_filter = ("provider",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("digest", "hint")
