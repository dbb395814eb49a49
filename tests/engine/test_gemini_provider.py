"""The gemini provider runs the real ``google-genai`` SDK against a local server speaking the
Gemini API: streamed text, parallel function calls, JSON-schema output, usage with cached
tokens, and errors retried or not, with the server's Retry-After honoured."""

import json

import pytest

from runs.engine.interfaces import (
    ChatMessage,
    ModelError,
    ModelRequest,
    ResolvedModel,
    ToolCall,
    ToolSchema,
)
from runs.engine.models import StaticModelRegistry, make_provider
from runs.engine.tools.netguard import NetworkPolicy
from tests.engine.helpers import LOCAL, run
from tests.factories import make_agent, make_spec
from tests.support.openai_server import Reply

TOOL = ToolSchema(
    "web.lookup", "Look something up.", {"type": "object", "properties": {"q": {"type": "string"}}}
)
KEY = "AIzaSy-gemini-secret-key-123456"


def request(**kwargs) -> ModelRequest:
    kwargs.setdefault(
        "messages", (ChatMessage("system", "Be brief."), ChatMessage("user", "hello"))
    )
    return ModelRequest("gemini-test", **kwargs)


def provider(server, **limits):
    limits.setdefault("network", LOCAL)
    return make_provider(
        "gemini", model="gemini-test", base_url=server.base_url, api_key=KEY, timeout_s=5.0,
        **limits,
    )  # fmt: skip


async def test_it_streams_text_deltas_and_reports_usage_with_cached_tokens(gemini_server):
    gemini_server.on(
        lambda r: True,
        Reply.text("Hello there, friend.", usage=(120, 5), cached=(100, 0), chunk_chars=5),
    )
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    response = await provider(gemini_server).complete(request(activity_key="run/a/t1"), on_delta)

    assert response.content == "Hello there, friend." and response.finish_reason == "stop"
    assert deltas == ["Hello", " ther", "e, fr", "iend."]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens) == (120, 5, 100)
    [served] = gemini_server.log
    assert served.body["model"] == "gemini-test"
    assert served.body["method"] == "streamGenerateContent"
    assert served.api_key == KEY and served.activity_key == "run/a/t1"
    assert served.body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert served.body["contents"] == [{"role": "user", "parts": [{"text": "hello"}]}]


async def test_it_collects_two_function_calls_of_one_turn(gemini_server):
    gemini_server.on(
        lambda r: True, Reply.calls(("web_lookup", {"q": "one"}), ("web_lookup", {"q": "two"}))
    )

    response = await provider(gemini_server).complete(request(tools=(TOOL,)))

    assert [json.loads(c.arguments) for c in response.tool_calls] == [{"q": "one"}, {"q": "two"}]
    assert [c.name for c in response.tool_calls] == ["web.lookup", "web.lookup"]
    assert [c.id for c in response.tool_calls] == ["fc_0", "fc_1"]
    assert response.finish_reason == "tool_calls"
    [tools] = gemini_server.log[0].body["tools"]
    [declaration] = tools["functionDeclarations"]
    assert declaration["name"] == "web_lookup"
    # The API reads proto JSON, where either spelling of a field name is accepted.
    schema = declaration.get("parametersJsonSchema", declaration.get("parameters_json_schema"))
    assert schema == TOOL.parameters


async def test_parallel_function_results_go_back_in_one_user_turn(gemini_server):
    gemini_server.on(lambda r: True, Reply.text("done"))
    calls = (ToolCall("fc_0", "web.lookup", '{"q": "one"}'), ToolCall("fc_1", "web.lookup", "{"))
    messages = (
        ChatMessage("user", "look twice"),
        ChatMessage("assistant", None, calls),
        ChatMessage("tool", "first", tool_call_id="fc_0"),
        ChatMessage("tool", "second", tool_call_id="fc_1"),
    )

    await provider(gemini_server).complete(request(messages=messages, tools=(TOOL,)))

    _, model, results = gemini_server.log[0].body["contents"]
    assert model["role"] == "model"
    assert [p["functionCall"]["args"] for p in model["parts"]] == [{"q": "one"}, {}]
    assert results["role"] == "user" and [p["functionResponse"] for p in results["parts"]] == [
        {"id": "fc_0", "name": "web_lookup", "response": {"result": "first"}},
        {"id": "fc_1", "name": "web_lookup", "response": {"result": "second"}},
    ]


async def test_it_asks_for_json_schema_output(gemini_server):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    gemini_server.on(lambda r: True, Reply.json({"ok": True}))

    response = await provider(gemini_server).complete(request(output_schema=schema))

    assert json.loads(response.content) == {"ok": True}
    config = gemini_server.log[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == schema


async def test_cached_tokens_cost_the_cached_price(gemini_server):
    gemini_server.on(lambda r: True, Reply.text("ok", usage=(1_000_000, 0), cached=(500_000, 0)))

    response = await provider(gemini_server).complete(request())
    model = ResolvedModel("g", provider(gemini_server), "gemini-test", input_usd_per_mtok=1,
                          cached_input_usd_per_mtok=0.1)  # fmt: skip

    assert model.cost_usd(response.usage) == pytest.approx(0.5 + 0.05)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_rate_limits_and_server_errors_are_retryable(gemini_server, status):
    gemini_server.on(lambda r: True, Reply.error(status, headers=(("retry-after", "7"),)))

    with pytest.raises(ModelError) as caught:
        await provider(gemini_server).complete(request())

    assert caught.value.transient and caught.value.status == status
    assert caught.value.retry_after_s == 7 and f"HTTP {status}" in str(caught.value)
    assert len(gemini_server.log) == 1  # the SDK's own retries are off: the engine's count


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_final(gemini_server, status):
    gemini_server.on(lambda r: True, Reply.error(status))

    with pytest.raises(ModelError) as caught:
        await provider(gemini_server).complete(request())

    assert not caught.value.transient and caught.value.status == status


async def test_a_stream_cut_short_is_retryable(gemini_server):
    part = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}]}
    gemini_server.on(lambda r: True, Reply.stream(f"data: {json.dumps(part)}\r\n\r\n"))

    with pytest.raises(ModelError) as caught:
        await provider(gemini_server).complete(request())

    assert caught.value.transient and "ended before" in str(caught.value)


async def test_an_endless_stream_is_cut_off_at_the_byte_cap(gemini_server):
    gemini_server.on(lambda r: True, Reply.text("x" * 50_000, chunk_chars=100))

    with pytest.raises(ModelError) as caught:
        await provider(gemini_server, max_answer_bytes=20_000).complete(request())

    assert not caught.value.transient and "20,000 bytes" in str(caught.value)


async def test_the_key_never_reaches_a_private_address_the_guard_refuses(gemini_server):
    with pytest.raises(ModelError) as caught:
        await provider(gemini_server, network=NetworkPolicy()).complete(request())

    assert not caught.value.transient and gemini_server.log == []


async def test_the_key_is_refused_for_hosts_it_is_not_bound_to(gemini_server):
    bound = provider(gemini_server, key_hosts=frozenset({"generativelanguage.googleapis.com"}))

    with pytest.raises(ModelError) as caught:
        await bound.complete(request())

    assert "Refused to send" in str(caught.value) and gemini_server.log == []


async def test_the_workers_google_keys_never_reach_a_users_server(gemini_server, monkeypatch):
    # The SDK reads these when it is given no key, and Vertex AI would use the worker's
    # Google credentials: a keyless model pointed anywhere must send neither.
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-operator-google-key-0000")
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-operator-gemini-key-0000")
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    gemini_server.on(lambda r: True, Reply.text("ok"))
    keyless = make_provider("gemini", model="m", base_url=gemini_server.base_url, api_key=None,
                            network=LOCAL)  # fmt: skip

    await keyless.complete(request())

    [served] = gemini_server.log
    assert "operator" not in json.dumps(served.headers)


def gemini(server) -> StaticModelRegistry:
    return StaticModelRegistry({"gem": ResolvedModel("gem", provider(server), "gemini-test")})


async def test_a_run_waits_as_long_as_retry_after_asks_then_retries_a_500_and_succeeds(
    gemini_server,
):
    gemini_server.on(lambda r: r.attempt == 1, Reply.error(429, headers=(("retry-after", "1"),)))
    gemini_server.on(lambda r: r.attempt == 2, Reply.error(500))
    gemini_server.on(lambda r: True, Reply.text("fine"))
    team = make_spec("supervisor", [make_agent("solo", model="gem")])

    outcome, sink = await run(team, "hi", models=gemini(gemini_server))

    assert outcome.status == "succeeded" and outcome.output == "fine"
    first, second = sink.of("retry")
    assert first.payload["delay_s"] >= 1 and second.payload["delay_s"] < 1
    assert [r.attempt for r in gemini_server.log] == [1, 2, 3]


async def test_a_run_does_not_retry_a_bad_request(gemini_server):
    gemini_server.on(lambda r: True, Reply.error(400))
    team = make_spec("supervisor", [make_agent("solo", model="gem")])

    outcome, sink = await run(team, "hi", models=gemini(gemini_server))

    assert outcome.status == "failed" and "HTTP 400" in outcome.reason
    assert len(gemini_server.log) == 1 and not sink.of("retry")


async def test_a_server_slower_than_the_timeout_is_retryable(gemini_server):
    gemini_server.on(lambda r: True, Reply.text("late", delay_s=2))

    with pytest.raises(ModelError) as caught:
        await provider(gemini_server).complete(request(timeout_s=0.5))

    assert caught.value.transient
