"""The pages a person gets for an address that leads nowhere or a server error: in the site's
words, with a way back, never Django's bare "Not Found"."""

import pytest
from django.template import loader
from django.test import Client, override_settings

from tests.factories import make_user

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_it_shows_a_missing_page_in_the_site_with_a_way_back() -> None:
    client = Client()
    client.force_login(make_user("alice"))
    # An address nothing answers, and a team that does not exist.
    for path in ("/no-such-page/", "/teams/999999/"):
        response = client.get(path)
        page = response.content.decode()
        assert response.status_code == 404
        assert "<h1>Not found</h1>" in page and ">your start page</a>" in page


@override_settings(DEBUG=False)
def test_it_sends_someone_logged_out_to_the_log_in_page() -> None:
    page = Client().get("/no-such-page/").content.decode()
    assert "<h1>Not found</h1>" in page and 'href="/login/"' in page


def test_the_server_error_page_needs_no_context() -> None:
    # Django renders 500.html with an empty context: no request, no user.
    page = loader.get_template("500.html").render()
    assert "Something went wrong" in page and 'href="/"' in page
