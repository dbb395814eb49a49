"""/api/docs works with no internet: Swagger UI's script and styles come from the site's own
static files, and it renders every operation of the OpenAPI document. The browser here can
reach nothing but the test server."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_the_operations_offline(page: Page, asgi_server: LiveServer) -> None:
    site = urlsplit(asgi_server.url).netloc
    elsewhere: list[str] = []

    def only_the_site(route: Route) -> None:
        if urlsplit(route.request.url).netloc == site:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_the_site)
    page.goto("/api/docs")

    # Swagger UI draws the document: its title and the operations, grouped by tag.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Agent-team orchestrator API")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=20_000)
    expect(
        page.locator('.opblock-summary-path[data-path="/api/teams/{team_id}"]').first
    ).to_be_visible()
    assert operations.count() > 20
    # The document parsed cleanly: no "duplicated mapping key" or other error box.
    expect(page.locator(".swagger-ui .errors-wrapper")).to_have_count(0)
    assert elsewhere == []
