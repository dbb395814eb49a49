import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestration_site.settings")

app = Celery("orchestration_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="webhooks")  # runs.webhooks.deliver_webhook
app.autodiscover_tasks(related_name="archive")  # runs.archive.retention_pass
