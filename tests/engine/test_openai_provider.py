"""The openai provider runs the real ``openai`` client against the scripted local server."""

import asyncio
import json

import pytest

from runs.engine.interfaces import ChatMessage, ModelError, ModelRequest, ToolCall, ToolSchema
from runs.engine.models import make_provider
from runs.engine.models.openai_provider import wire_names
from tests.engine.helpers import LOCAL
from tests.support.openai_server import Reply

TOOL = ToolSchema(
    "lookup", "Look something up.", {"type": "object", "properties": {"q": {"type": "string"}}}
)


def request(**kwargs) -> ModelRequest:
    kwargs.setdefault(
        "messages", (ChatMessage("system", "Be brief."), ChatMessage("user", "hello"))
    )
    return ModelRequest("test-model", **kwargs)


def provider(server, timeout_s: float = 5.0, **limits):
    return make_provider(
        "openai", model="test-model", base_url=server.base_url, api_key="k", timeout_s=timeout_s,
        network=LOCAL, **limits,
    )  # fmt: skip


async def test_it_streams_text_and_reports_usage(openai_server):
    openai_server.on(
        lambda r: True, Reply.text("Hello there, friend.", usage=(12, 5), chunk_chars=5)
    )
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    response = await provider(openai_server).complete(
        request(activity_key="run/a/t1/model"), on_delta
    )

    assert response.content == "Hello there, friend." and deltas == [
        "Hello",
        " ther",
        "e, fr",
        "iend.",
    ]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 5)
    [served] = openai_server.log
    assert served.body["stream"] is True and served.activity_key == "run/a/t1/model"
    assert served.body["messages"][0] == {"role": "system", "content": "Be brief."}


async def test_prompt_tokens_read_from_the_cache_are_counted_and_cost_the_cached_price(
    openai_server,
):
    openai_server.on(lambda r: True, Reply.text("ok", usage=(1_000_000, 5), cached=(500_000, 0)))

    response = await provider(openai_server).complete(request())

    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens) == (
        1_000_000, 5, 500_000,
    )  # fmt: skip
    assert openai_server.log[0].body["stream_options"] == {"include_usage": True}
    from runs.engine.interfaces import ResolvedModel

    model = ResolvedModel("o", provider(openai_server), "test-model", input_usd_per_mtok=1,
                          cached_input_usd_per_mtok=0.1)  # fmt: skip
    assert model.cost_usd(usage) == pytest.approx(0.5 + 0.05)


async def test_it_assembles_several_tool_calls_from_streamed_fragments(openai_server):
    openai_server.on(
        lambda r: True, Reply.calls(("lookup", {"q": "one"}), ("lookup", {"q": "two"}))
    )

    response = await provider(openai_server).complete(request(tools=(TOOL,)))

    assert [json.loads(c.arguments) for c in response.tool_calls] == [{"q": "one"}, {"q": "two"}]
    assert [c.id for c in response.tool_calls] == ["call_0", "call_1"]
    assert response.finish_reason == "tool_calls"
    assert openai_server.log[0].tool_names == ["lookup"]


async def test_it_passes_malformed_tool_arguments_through_for_the_engine_to_report(openai_server):
    openai_server.on(lambda r: True, Reply.calls(("lookup", '{"q": ')))

    response = await provider(openai_server).complete(request(tools=(TOOL,)))

    assert response.tool_calls[0].arguments == '{"q": '


async def test_it_asks_for_json_schema_output(openai_server):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    openai_server.on(lambda r: True, Reply.json({"ok": True}))

    response = await provider(openai_server).complete(request(output_schema=schema))

    assert json.loads(response.content) == {"ok": True}
    assert openai_server.log[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": False},
    }


@pytest.mark.parametrize(
    ("reply", "transient", "status"),
    [
        (Reply.error(429), True, 429),
        (Reply.error(500), True, 500),
        (Reply.error(502), True, 502),
        (Reply.error(400), False, 400),
        (Reply.error(401), False, 401),
        (Reply.error(404), False, 404),
        (Reply.text("slow", delay_s=3), True, None),
    ],
)
async def test_errors_map_onto_retry_or_not(openai_server, reply, transient, status):
    openai_server.on(lambda r: True, reply)

    with pytest.raises(ModelError) as raised:
        await provider(openai_server, timeout_s=0.3).complete(request())

    assert raised.value.transient is transient and raised.value.status == status


async def test_an_unreachable_server_is_a_transient_error():
    unreachable = make_provider(
        "openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="k", network=LOCAL
    )

    with pytest.raises(ModelError) as raised:
        await unreachable.complete(request())

    assert raised.value.transient is True and "Could not reach" in str(raised.value)


def test_an_unknown_provider_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="use one of openai, anthropic, gemini, offline"):
        make_provider("cohere", model="x")


async def test_it_sends_mcp_tool_names_in_a_form_the_server_accepts_and_maps_them_back(
    openai_server,
):
    openai_server.on(lambda r: True, Reply.calls(("inventory_stock_level", {"q": "bolts"})))
    mcp_tool = ToolSchema("inventory.stock_level", "Stock of an item.", TOOL.parameters)
    earlier_call = ToolCall("c0", "inventory.stock_level", '{"q": "nuts"}')
    history = (
        ChatMessage("user", "How many bolts?"),
        ChatMessage("assistant", None, tool_calls=(earlier_call,)),
        ChatMessage("tool", '{"count": 3}', tool_call_id="c0"),
    )

    response = await provider(openai_server).complete(request(messages=history, tools=(mcp_tool,)))

    [served] = openai_server.log
    assert [t["function"]["name"] for t in served.body["tools"]] == ["inventory_stock_level"]
    assert served.body["messages"][1]["tool_calls"][0]["function"]["name"] == (
        "inventory_stock_level"
    )
    assert [(c.name, json.loads(c.arguments)) for c in response.tool_calls] == [
        ("inventory.stock_level", {"q": "bolts"})
    ]


def test_it_keeps_wire_names_unique_when_two_tools_sanitise_alike():
    tools = (ToolSchema("a.b", "", {}), ToolSchema("a_b", "", {}), ToolSchema("a/b", "", {}))
    names = wire_names(request(tools=tools))
    assert len(set(names.values())) == 3
    assert all(len(n) <= 64 and n.replace("_", "").isalnum() for n in names.values())


def event(data: object) -> str:
    """One server-sent event as a server writes it."""
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


async def collect(server, reply: Reply, **kwargs) -> tuple[list[str], ModelError | None]:
    """What the engine sees of one call: the deltas it was handed, and the error if it failed."""
    server.on(lambda r: True, reply)
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    try:
        await provider(server, **kwargs).complete(request(), on_delta)
    except ModelError as error:
        return deltas, error
    return deltas, None


async def test_it_sends_the_api_key_as_a_bearer_token(openai_server):
    openai_server.on(lambda r: True, Reply.text("ok"))

    await provider(openai_server).complete(request())

    assert openai_server.log[0].api_key == "k"


async def test_it_tells_the_server_nothing_about_the_machine_it_runs_on(openai_server):
    openai_server.on(lambda r: True, Reply.text("ok"))

    await provider(openai_server).complete(request(activity_key="run/a/t1/model", attempt=2))

    sent = openai_server.log[0].headers
    assert not [name for name in sent if name.startswith("x-stainless")]
    assert sent["x-activity-key"] == "run/a/t1/model" and sent["x-attempt"] == "2"
    assert sent["authorization"] == "Bearer k"


async def test_an_error_event_mid_stream_is_a_transient_error_with_the_servers_message(
    openai_server,
):
    overloaded = {"error": {"message": "The server is overloaded.", "type": "server_error"}}
    reply = Reply.stream(event(chunk({"content": "Hal"})), event(overloaded), event("[DONE]"))

    deltas, error = await collect(openai_server, reply)

    assert deltas == ["Hal"]
    assert error is not None and error.transient is True
    assert str(error) == "The model server answered badly: The server is overloaded."


async def test_a_data_line_that_is_not_json_is_a_transient_error_that_shows_it(openai_server):
    reply = Reply.stream(event(chunk({"content": "Hi"})), event('{"choices": [{"delta"'))

    deltas, error = await collect(openai_server, reply)

    assert deltas == ["Hi"]
    assert error is not None and error.transient is True
    assert "malformed stream event" in str(error) and '{"choices": [{"delta"' in str(error)


async def test_a_chunk_of_the_wrong_shape_is_a_malformed_stream(openai_server):
    reply = Reply.stream(event({"choices": "none"}), event("[DONE]"))

    _, error = await collect(openai_server, reply)

    assert error is not None and "malformed stream event" in str(error)


async def test_a_stream_cut_off_before_the_answer_finished_is_a_transient_error(openai_server):
    reply = Reply.stream(event(chunk({"content": "Half an ans"})))

    deltas, error = await collect(openai_server, reply)

    assert deltas == ["Half an ans"]
    assert error is not None and error.transient is True and "ended before" in str(error)


async def test_a_finished_answer_without_done_is_accepted_even_without_a_last_line_end(
    openai_server,
):
    last = f"data: {json.dumps(chunk({}, 'stop'))}"  # the body ends right after the JSON
    openai_server.on(lambda r: True, Reply.stream(event(chunk({"content": "All of it."})), last))

    response = await provider(openai_server).complete(request())

    assert (response.content, response.finish_reason) == ("All of it.", "stop")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (0, 0)


async def test_it_reads_events_split_across_writes_with_crlf_line_ends(openai_server):
    first, second = (
        json.dumps(chunk({"content": "Hello"})),
        json.dumps(chunk({"content": "!"}, "stop")),
    )
    usage = json.dumps({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
    reply = Reply.stream(
        ": keep-alive comment\r\n\r\n",
        f"data: {first[:20]}",
        f"{first[20:]}\r\n\r\nevent: message\r\ndata:{second}\r\n\r\n",
        f"data: {usage}\n\ndata: [DONE]\n\n",
    )
    openai_server.on(lambda r: True, reply)

    response = await provider(openai_server).complete(request())

    assert (response.content, response.finish_reason) == ("Hello!", "stop")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (3, 2)


async def test_a_response_held_open_after_done_does_not_hold_up_the_answer(openai_server):
    openai_server.on(lambda r: True, Reply.text("Quick.", linger_s=3))

    response = await asyncio.wait_for(provider(openai_server).complete(request()), timeout=1.5)

    assert response.content == "Quick."
