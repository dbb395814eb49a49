from tests.e2e.conftest import model_server  # noqa: F401 - the scripted model, on a thread
