from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import make_user


@pytest.fixture
def bob(db: None) -> Any:
    return make_user("bob")


@pytest.fixture
def alice_client(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client
