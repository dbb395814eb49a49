"""ASGI entry point: HTTP through Django (and the MCP server at /mcp/), websockets through
Channels."""

import os
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestration_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from evaluations.routing import websocket_urlpatterns as experiment_routes  # noqa: E402
from publishing import mcp, waits  # noqa: E402
from runs.backlog import BacklogMiddleware  # noqa: E402
from runs.routing import BrowserOriginValidator  # noqa: E402
from runs.routing import websocket_urlpatterns as run_routes  # noqa: E402

from . import body_limit  # noqa: E402

body_limit.install()  # daphne refuses a body over REQUEST_MAX_BODY_BYTES as it arrives

if settings.RUN_EXECUTOR == "thread":
    # The embedded default: this process executes runs, so it wakes them too.
    from evaluations import tasks as experiments
    from runs import wakes
    from triggers import tasks as schedules

    wakes.start()
    schedules.start_embedded()  # no beat without Redis: this process fires the schedules
    experiments.start_embedded()  # and takes up the experiments a restart left running


async def http(scope: Any, receive: Any, send: Any) -> None:
    """Django, except for the MCP server of published teams at /mcp/ (publishing.mcp); a
    published team's `?wait=true` waits after Django has answered (publishing.waits)."""
    if mcp.is_mcp(scope):
        await mcp.endpoint(scope, receive, send)
    elif scope["path"].startswith("/p/"):
        await waits.deferring(django_asgi_app, scope, receive, send)
    else:
        await django_asgi_app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http,
        "websocket": BacklogMiddleware(
            BrowserOriginValidator(AuthMiddlewareStack(URLRouter(run_routes + experiment_routes)))
        ),
    }
)
