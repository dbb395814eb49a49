import pytest

from runs.engine.models import close_providers


@pytest.fixture(autouse=True)
async def close_model_connections():
    """The providers a test makes keep connections on its event loop: closed with it."""
    yield
    await close_providers()
