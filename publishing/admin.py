from django.contrib import admin

from .models import Publication, PublicationKey


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ("slug", "team", "version", "published_by", "created_at", "unpublished_at")
    search_fields = ("slug",)


@admin.register(PublicationKey)
class PublicationKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "publication", "hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("digest", "hint")
