// "Talk to the team": a playground beside the canvas. A conversation with the draft as it is
// (unsaved), each message a run whose answer streams in over the run's websocket.
import { useEffect, useRef, useState } from "react";
import { api } from "../lib/api";
import { RunSocket, runSocketUrl } from "../run/socket";
import { problemsOf } from "./builderApi";
import { activeRun, shownText, type Conversation } from "./chat";
import type { TeamSpec } from "./spec";

interface Props {
  teamId: number;
  spec: TeamSpec;
}

export function ChatPanel({ teamId, spec }: Props) {
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [input, setInput] = useState("");
  const [streaming, setStreaming] = useState("");
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const socket = useRef<RunSocket | null>(null);
  const watching = activeRun(conversation);

  const reload = async (id: number) => setConversation(await api<Conversation>("GET", `/conversations/${id}`));

  // While an answer is being written: its entry agent's tokens as they come, then the answer.
  useEffect(() => {
    if (!watching || !conversation) return;
    let ended = false;
    setStreaming("");
    const id = conversation.id;
    const live = new RunSocket({
      url: runSocketUrl(window.location, watching),
      lastSeq: () => 0,
      onState: () => undefined,
      shouldReconnect: () => !ended,
      onMessage: (message) => {
        if (message.type === "delta" && (!spec.entry || message.agent === spec.entry)) {
          setStreaming((text) => text + message.text);
        } else if (message.type === "events") {
          for (const event of message.events) {
            if (event.type === "turn.started" && event.agent === spec.entry) setStreaming("");
            if (["run.finished", "run.failed", "run.cancelled"].includes(event.type)) ended = true;
          }
          if (ended) {
            live.close();
            void reload(id);
          }
        }
      },
    });
    socket.current = live;
    live.connect();
    return () => live.close();
    // The socket follows the run being answered; the draft's entry is read when it starts.
  }, [watching]);

  const send = async () => {
    if (!input.trim()) {
      setErrors(["Write a message: it is empty."]);
      return;
    }
    setBusy(true);
    setErrors([]);
    try {
      let current = conversation;
      if (!current) {
        current = await api<Conversation>("POST", `/teams/${teamId}/conversations`, { spec });
        setConversation(current);
      }
      await api("POST", `/conversations/${current.id}/messages`, { content: input });
      setInput("");
      await reload(current.id);
    } catch (error) {
      setErrors(problemsOf(error).map((p) => p.message));
    } finally {
      setBusy(false);
    }
  };

  const startOver = () => {
    socket.current?.close();
    setConversation(null);
    setErrors([]);
  };

  return (
    <fieldset className="chat-panel" data-testid="chat-panel">
      <legend>Talk to the team</legend>
      <p className="hint">
        A conversation with the draft as it is on the canvas, unsaved. Changes to the canvas apply to a new conversation.
      </p>
      {conversation && (
        <ol className="chat-log" aria-live="polite" aria-label="Conversation">
          {conversation.messages.map((message) => (
            <li key={`${message.turn}-${message.role}`} className={`chat-line ${message.role}`}>
              <span className="chat-who">{message.role === "user" ? "You" : spec.name || "Team"}</span>
              <span className="chat-words" data-testid={message.role === "assistant" ? "chat-answer" : undefined}>
                {message.role === "user" ? message.content : shownText(message, streaming)}
              </span>
              {message.role === "assistant" && message.run_url && (
                <a className="chat-run" href={message.run_url} target="_blank" rel="noreferrer">
                  {message.status}: its run
                </a>
              )}
            </li>
          ))}
        </ol>
      )}
      <label>
        Message
        <textarea rows={2} value={input} onChange={(e) => setInput(e.target.value)} data-testid="chat-input" />
      </label>
      <div className="chat-actions">
        <button type="button" onClick={send} disabled={busy || watching !== null} data-testid="chat-send">
          Send
        </button>
        {conversation && (
          <>
            <button type="button" onClick={startOver}>
              New conversation
            </button>
            <a href={conversation.url} target="_blank" rel="noreferrer">
              Open the conversation
            </a>
          </>
        )}
      </div>
      {errors.length > 0 && (
        <ul className="node-test-errors" role="alert">
          {errors.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
