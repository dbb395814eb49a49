"""Fixtures for the teams tests: alice and a client logged in as her."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import make_user


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice")


@pytest.fixture
def client_for(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client
