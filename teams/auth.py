"""How API callers prove who they are: the browser's session (with CSRF) or a bearer token."""

from ninja.security import django_auth

api_auth = [django_auth]
