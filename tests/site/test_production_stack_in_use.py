"""With DATABASE_URL and REDIS_URL set, the running app really talks to PostgreSQL and Redis."""

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_is_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


@pytest.mark.redis
async def test_the_channel_layer_carries_a_message_through_redis() -> None:
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")
    assert settings.RUN_EXECUTOR == "celery"
    channel = await layer.new_channel()
    await layer.group_add("settings-probe", channel)
    await layer.group_send("settings-probe", {"type": "probe", "text": "hello"})
    assert (await layer.receive(channel))["text"] == "hello"
    await layer.group_discard("settings-probe", channel)
