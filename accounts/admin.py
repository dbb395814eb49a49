from django.contrib import admin

from .models import OIDCIdentity


@admin.register(OIDCIdentity)
class OIDCIdentityAdmin(admin.ModelAdmin):
    """Where the operator links a provider's `sub` to an existing account (single sign-on never
    links one by e-mail by itself) or unlinks it."""

    list_display = ("user", "subject", "issuer", "email", "last_login_at")
    search_fields = ("user__username", "subject", "email")
    raw_id_fields = ("user",)
    readonly_fields = ("email", "created_at", "last_login_at")
