from typing import Any

import pytest
from django.test import Client

from tests.factories import make_user


@pytest.fixture(autouse=True)
def run_ui_settings(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.runs_ui.urls"
    # The manifest storage needs `collectstatic`; tests serve the files as they are.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def alice(db: None) -> Any:
    return make_user("alice")


@pytest.fixture
def bob(db: None) -> Any:
    return make_user("bob")


@pytest.fixture
def alice_client(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client
