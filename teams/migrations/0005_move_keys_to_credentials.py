"""Moves model configs and custom tools off environment variables, losing nothing.

- A model config's ``api_key_env`` is kept only where the operator lists that variable as a
  credential (``MODEL_CREDENTIALS``): the config then uses that credential (its base URL and
  prices). Otherwise the config is kept but marked ``needs_credential``: runs using it fail with
  that reason until its owner picks a credential or a secret.
- A custom tool's ``env:NAME`` header becomes ``secret:NAME``: a reference to a secret its owner
  must store (bound to the tool's host) before the tool works again.

Everything it could not move is printed for the operator.
"""

import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.db import migrations


def _host(url):
    try:
        return (urlsplit(url or "").hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def _credential_for(config, credentials):
    """The operator credential that lends this config's variable, the one on its host first."""
    lending = [c for c in credentials.values() if c.key_env == config.api_key_env]
    lending = [c for c in lending if c.provider == config.provider]
    host = _host(config.base_url)
    for credential in lending:
        if host in credential.allowed_hosts() or (not config.base_url and credential.base_url):
            return credential
    fixed = [c for c in lending if c.base_url]
    return fixed[0] if fixed else None


def _report(lines):
    if lines:
        sys.stdout.write(
            "\n  Model keys and tool secrets that could not move to the new scheme "
            "(docs/security.md, Credentials and secrets):\n"
        )
        for line in lines:
            sys.stdout.write(f"  - {line}\n")


def forwards(apps, schema_editor):
    ModelConfig = apps.get_model("teams", "ModelConfig")
    CustomTool = apps.get_model("teams", "CustomTool")
    credentials = dict(getattr(settings, "MODEL_CREDENTIALS", {}))
    notes = []
    for config in ModelConfig.objects.exclude(api_key_env="").select_related("owner"):
        where = f"{config.owner.username}'s model {config.name!r}"
        credential = _credential_for(config, credentials)
        if credential is None:
            config.needs_credential = True
            notes.append(
                f"{where}: its key variable {config.api_key_env} is not a credential in "
                "MODEL_CREDENTIALS; it is kept but needs a credential or a secret before it runs."
            )
        else:
            if (
                credential.base_url
                and config.base_url
                and _host(config.base_url) != _host(credential.base_url)
            ):
                notes.append(
                    f"{where}: now uses the credential {credential.name}, so it calls "
                    f"{credential.base_url} instead of {config.base_url}."
                )
            config.credential = credential.name
            config.base_url = "" if credential.base_url else config.base_url
            config.input_usd_per_mtok = config.output_usd_per_mtok = 0  # the credential's
        config.api_key_env = ""
        config.save(
            update_fields=[
                "credential", "base_url", "needs_credential", "api_key_env",
                "input_usd_per_mtok", "output_usd_per_mtok",
            ]
        )  # fmt: skip
    for tool in CustomTool.objects.select_related("owner"):
        headers = dict(tool.headers or {})
        moved = {k: v for k, v in headers.items() if isinstance(v, str) and v.startswith("env:")}
        if not moved:
            continue
        for header, value in moved.items():
            name = value.removeprefix("env:")
            headers[header] = f"secret:{name}"
            notes.append(
                f"{tool.owner.username}'s tool {tool.name!r}: the header {header} read the "
                f"variable {name}; it now refers to the secret {name}, which the user must "
                f"store, bound to {_host(tool.url) or 'the tool host'}, before the tool works."
            )
        tool.headers = headers
        tool.save(update_fields=["headers"])
    _report(notes)


def backwards(apps, schema_editor):
    ModelConfig = apps.get_model("teams", "ModelConfig")
    CustomTool = apps.get_model("teams", "CustomTool")
    credentials = dict(getattr(settings, "MODEL_CREDENTIALS", {}))
    for config in ModelConfig.objects.exclude(credential=""):
        credential = credentials.get(config.credential)
        if credential is not None and credential.key_env:
            config.api_key_env = credential.key_env
            config.base_url = credential.base_url or config.base_url
            config.save(update_fields=["api_key_env", "base_url"])
    for tool in CustomTool.objects.all():
        headers = {
            k: f"env:{v.removeprefix('secret:')}"
            if isinstance(v, str) and v.startswith("secret:")
            else v
            for k, v in (tool.headers or {}).items()
        }
        if headers != tool.headers:
            tool.headers = headers
            tool.save(update_fields=["headers"])


class Migration(migrations.Migration):
    dependencies = [("teams", "0004_secrets_and_credentials")]

    operations = [migrations.RunPython(forwards, backwards)]
