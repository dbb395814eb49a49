"""The anthropic provider runs the real ``anthropic`` SDK against a local server speaking the
Messages API: streamed text, parallel tool calls, structured output, prompt caching and its
usage, and errors retried or not, with the server's Retry-After honoured."""

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


def request(**kwargs) -> ModelRequest:
    kwargs.setdefault(
        "messages", (ChatMessage("system", "Be brief."), ChatMessage("user", "hello"))
    )
    return ModelRequest("claude-test", **kwargs)


def provider(server, **limits):
    limits.setdefault("network", LOCAL)
    return make_provider(
        "anthropic", model="claude-test", base_url=server.base_url, api_key="sk-ant-secret-key-123456",
        timeout_s=5.0, **limits,
    )  # fmt: skip


async def test_it_streams_text_deltas_and_reports_usage_with_cached_tokens(anthropic_server):
    anthropic_server.on(
        lambda r: True,
        Reply.text("Hello there, friend.", usage=(120, 5), cached=(100, 10), chunk_chars=5),
    )
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    response = await provider(anthropic_server).complete(request(activity_key="run/a/t1"), on_delta)

    assert response.content == "Hello there, friend." and response.finish_reason == "stop"
    assert deltas == ["Hello", " ther", "e, fr", "iend."]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens) == (120, 5)
    assert (usage.cached_input_tokens, usage.cache_write_tokens) == (100, 10)
    [served] = anthropic_server.log
    assert served.api_key == "sk-ant-secret-key-123456" and served.activity_key == "run/a/t1"
    assert "anthropic-version" in served.headers
    # The system prompt goes apart from the messages, marked for the prompt cache.
    assert served.body["system"] == [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
    ]
    assert served.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hello"}]}
    ]
    assert served.body["stream"] is True and served.body["max_tokens"] > 0


async def test_cached_tokens_cost_what_the_cache_prices_say(anthropic_server):
    anthropic_server.on(
        lambda r: True, Reply.text("ok", usage=(1_000_000, 0), cached=(800_000, 100_000))
    )

    response = await provider(anthropic_server).complete(request())
    model = ResolvedModel("c", provider(anthropic_server), "claude-test", input_usd_per_mtok=3,
                          cached_input_usd_per_mtok=0.3, cache_write_usd_per_mtok=3.75)  # fmt: skip

    # 100k uncached at $3, 800k read at $0.30, 100k written at $3.75 per million.
    assert model.cost_usd(response.usage) == pytest.approx(0.3 + 0.24 + 0.375)


async def test_it_assembles_two_tool_calls_streamed_in_one_turn(anthropic_server):
    anthropic_server.on(
        lambda r: True, Reply.calls(("web_lookup", {"q": "one"}), ("web_lookup", {"q": "two"}))
    )

    response = await provider(anthropic_server).complete(request(tools=(TOOL,)))

    assert [json.loads(c.arguments) for c in response.tool_calls] == [{"q": "one"}, {"q": "two"}]
    assert [c.name for c in response.tool_calls] == ["web.lookup", "web.lookup"]
    assert [c.id for c in response.tool_calls] == ["toolu_0", "toolu_1"]
    assert response.finish_reason == "tool_calls"
    [tool] = anthropic_server.log[0].body["tools"]
    assert tool["name"] == "web_lookup" and tool["input_schema"] == TOOL.parameters
    assert tool["cache_control"] == {"type": "ephemeral"}


async def test_parallel_tool_results_go_back_in_one_user_turn(anthropic_server):
    anthropic_server.on(lambda r: True, Reply.text("done"))
    calls = (
        ToolCall("toolu_0", "web.lookup", '{"q": "one"}'),
        ToolCall("toolu_1", "web.lookup", "{"),
    )
    messages = (
        ChatMessage("user", "look twice"),
        ChatMessage("assistant", None, calls),
        ChatMessage("tool", "first", tool_call_id="toolu_0"),
        ChatMessage("tool", "second", tool_call_id="toolu_1"),
    )

    await provider(anthropic_server).complete(request(messages=messages, tools=(TOOL,)))

    _, assistant, results = anthropic_server.log[0].body["messages"]
    assert [b["input"] for b in assistant["content"]] == [{"q": "one"}, {}]
    assert assistant["content"][0]["name"] == "web_lookup"
    assert results["role"] == "user" and [
        (b["type"], b["tool_use_id"], b["content"]) for b in results["content"]
    ] == [("tool_result", "toolu_0", "first"), ("tool_result", "toolu_1", "second")]


async def test_it_asks_for_json_schema_output(anthropic_server):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    anthropic_server.on(lambda r: True, Reply.json({"ok": True}))

    response = await provider(anthropic_server).complete(request(output_schema=schema))

    assert json.loads(response.content) == {"ok": True}
    assert anthropic_server.log[0].body["output_config"] == {
        "format": {"type": "json_schema", "schema": schema}
    }


@pytest.mark.parametrize("status", [429, 500, 503, 529])
async def test_rate_limits_server_errors_and_overload_are_retryable(anthropic_server, status):
    anthropic_server.on(lambda r: True, Reply.error(status, headers=(("retry-after", "7"),)))

    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server).complete(request())

    assert caught.value.transient and caught.value.status == status
    assert caught.value.retry_after_s == 7
    assert f"HTTP {status}" in str(caught.value)
    assert len(anthropic_server.log) == 1  # the SDK's own retries are off: the engine's count


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_final(anthropic_server, status):
    anthropic_server.on(lambda r: True, Reply.error(status))

    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server).complete(request())

    assert not caught.value.transient and caught.value.status == status


async def test_an_error_event_mid_stream_is_retryable(anthropic_server):
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    anthropic_server.on(
        lambda r: True, Reply.stream(f"event: error\ndata: {json.dumps(error)}\n\n")
    )

    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server).complete(request())

    assert caught.value.transient and "Overloaded" in str(caught.value)


async def test_a_stream_cut_short_is_retryable(anthropic_server):
    start = {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant",
             "content": [], "model": "x", "usage": {"input_tokens": 1, "output_tokens": 1}}}  # fmt: skip
    anthropic_server.on(
        lambda r: True, Reply.stream(f"event: message_start\ndata: {json.dumps(start)}\n\n")
    )

    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server).complete(request())

    assert caught.value.transient and "ended before" in str(caught.value)


async def test_an_endless_stream_is_cut_off_at_the_byte_cap(anthropic_server):
    anthropic_server.on(lambda r: True, Reply.text("x" * 50_000, chunk_chars=100))

    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server, max_answer_bytes=20_000).complete(request())

    assert not caught.value.transient and "20,000 bytes" in str(caught.value)


async def test_the_key_never_reaches_a_private_address_the_guard_refuses(anthropic_server):
    # The default policy allows public addresses only; the server is on 127.0.0.1.
    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server, network=NetworkPolicy()).complete(request())

    assert not caught.value.transient and anthropic_server.log == []


async def test_the_key_is_refused_for_hosts_it_is_not_bound_to(anthropic_server):
    bound = provider(anthropic_server, key_hosts=frozenset({"api.anthropic.com"}))

    with pytest.raises(ModelError) as caught:
        await bound.complete(request())

    assert "Refused to send" in str(caught.value) and anthropic_server.log == []


async def test_a_key_the_server_echoes_is_redacted(anthropic_server):
    anthropic_server.on(lambda r: True, Reply.stream(
        'event: error\ndata: {"type": "error", "error": {"type": "api_error", '
        '"message": "bad key sk-ant-secret-key-123456"}}\n\n'))  # fmt: skip

    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server).complete(request())

    assert "sk-ant-secret-key-123456" not in str(caught.value) and "[redacted]" in str(caught.value)


def claude(server) -> StaticModelRegistry:
    return StaticModelRegistry({"claude": ResolvedModel("claude", provider(server), "claude-test")})


async def test_a_run_waits_as_long_as_retry_after_asks_then_retries_a_500_and_succeeds(
    anthropic_server,
):
    anthropic_server.on(lambda r: r.attempt == 1, Reply.error(429, headers=(("retry-after", "1"),)))
    anthropic_server.on(lambda r: r.attempt == 2, Reply.error(500))
    anthropic_server.on(lambda r: True, Reply.text("fine"))
    team = make_spec("supervisor", [make_agent("solo", model="claude")])

    outcome, sink = await run(team, "hi", models=claude(anthropic_server))

    assert outcome.status == "succeeded" and outcome.output == "fine"
    first, second = sink.of("retry")
    assert first.payload["delay_s"] >= 1 and second.payload["delay_s"] < 1
    assert [r.attempt for r in anthropic_server.log] == [1, 2, 3]


async def test_a_run_does_not_retry_a_bad_request(anthropic_server):
    anthropic_server.on(lambda r: True, Reply.error(400))
    team = make_spec("supervisor", [make_agent("solo", model="claude")])

    outcome, sink = await run(team, "hi", models=claude(anthropic_server))

    assert outcome.status == "failed" and "HTTP 400" in outcome.reason
    assert len(anthropic_server.log) == 1 and not sink.of("retry")


async def test_the_workers_own_anthropic_headers_never_reach_a_users_server(
    anthropic_server, monkeypatch
):
    # The SDK would add these to every request, wherever it goes.
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Operator-Token: op-secret\nX-Team: ops")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-operator-key-000000")
    anthropic_server.on(lambda r: True, Reply.text("ok"))
    keyless = make_provider("anthropic", model="m", base_url=anthropic_server.base_url,
                            api_key=None, network=LOCAL)  # fmt: skip

    await keyless.complete(request())

    [served] = anthropic_server.log
    assert "x-operator-token" not in served.headers and "x-team" not in served.headers
    assert "sk-ant-operator-key-000000" not in json.dumps(served.headers)


async def test_a_server_slower_than_the_timeout_is_retryable(anthropic_server):
    anthropic_server.on(lambda r: True, Reply.text("late", delay_s=2))

    with pytest.raises(ModelError) as caught:
        await provider(anthropic_server).complete(request(timeout_s=0.5))

    assert caught.value.transient
