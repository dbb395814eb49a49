// The conversation page: sends a message through the API and streams the answer in from the
// run's websocket (the deltas of the entry agent as they arrive; the run's output once it
// ends). Everything a model wrote is put in as text, never as HTML.
(() => {
  const root = document.getElementById("conversation-root");
  const data = document.getElementById("conversation-data");
  if (!root || !data) return;
  const id = root.dataset.conversationId;
  const entry = root.dataset.entry || null;
  const list = document.getElementById("conversation-messages");
  const form = document.getElementById("conversation-form");
  const input = document.getElementById("conversation-input");
  const errorBox = document.getElementById("conversation-error");
  const initial = JSON.parse(data.textContent);
  const teamName = initial.team_name;
  const ACTIVE = new Set(["queued", "running", "waiting"]);
  let socket = null;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A run's status as a word in a sentence ("Succeeded"), not its API value.
  function statusWord(status) {
    return status ? status.charAt(0).toUpperCase() + status.slice(1) : "";
  }

  function messageItem(message) {
    const item = element("li", `chat-message ${message.role}`);
    item.dataset.turn = String(message.turn);
    item.append(element("span", "chat-who", message.role === "user" ? "You" : teamName));
    let text = message.content;
    if (text === null && message.role === "assistant") {
      text = ACTIVE.has(message.status) ? "" : message.failure_reason || statusWord(message.status);
    }
    const body = element("div", "chat-text", text || "");
    if (message.role === "assistant" && ACTIVE.has(message.status)) {
      body.classList.add("streaming");
      body.setAttribute("aria-busy", "true");
    }
    item.append(body);
    if (message.role === "assistant" && message.run_url) {
      const links = element("p", "chat-links muted");
      const timeline = element("a", "", "Timeline");
      timeline.href = message.run_url;
      const audit = element("a", "", "Audit trail");
      audit.href = message.audit_url;
      links.append(timeline, " · ", audit, ` · ${statusWord(message.status)}`);
      item.append(links);
    }
    return item;
  }

  function render(conversation) {
    const heading = document.querySelector("h1");
    if (heading && conversation.title) heading.textContent = conversation.title;
    list.replaceChildren(...conversation.messages.map(messageItem));
    if (!conversation.messages.length) {
      list.append(element("li", "chat-empty muted", "No messages yet: write the first one below."));
    }
    const last = conversation.messages[conversation.messages.length - 1];
    if (form) form.querySelector("button").disabled = Boolean(last && ACTIVE.has(last.status));
    if (last && ACTIVE.has(last.status) && last.run_id) watch(last.run_id);
    list.lastElementChild?.scrollIntoView({ block: "end" });
  }

  async function reload() {
    const response = await fetch(`/api/conversations/${id}`, { credentials: "same-origin" });
    if (response.ok) render(await response.json());
  }

  function streamingText() {
    const items = list.querySelectorAll(".chat-message.assistant .chat-text.streaming");
    return items[items.length - 1] || null;
  }

  // The answer being written: each new model turn of the entry agent starts it again
  // (a summary or a turn with tool calls came first); the run's output replaces it at the end.
  function watch(runId) {
    if (socket) socket.close();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws/runs/${runId}/`);
    socket = ws;
    let done = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", after_seq: 0 }));
    ws.onmessage = (e) => {
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return;
      }
      const target = streamingText();
      if (message.type === "delta" && typeof message.text === "string") {
        if (target && (!entry || message.agent === entry)) target.textContent += message.text;
      } else if (message.type === "events" && Array.isArray(message.events)) {
        for (const event of message.events) {
          if (event.type === "turn.started" && event.agent === entry && target) target.textContent = "";
          if (["run.finished", "run.failed", "run.cancelled"].includes(event.type)) done = true;
        }
      } else if (message.type === "run" && message.run && !ACTIVE.has(message.run.status)) {
        done = true;
      }
      if (done) {
        ws.close();
        socket = null;
        reload();
      }
    };
    ws.onclose = () => {
      if (!done && socket === ws) setTimeout(reload, 2000); // reconnects through render()
    };
  }

  async function send(event) {
    event.preventDefault();
    const content = input.value;
    if (!content.trim()) {
      showError("Write a message: it is empty.");
      return;
    }
    showError("");
    const button = form.querySelector("button");
    button.disabled = true;
    let response;
    try {
      response = await fetch(`/api/conversations/${id}/messages`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ content }),
      });
    } catch {
      showError("The message could not be sent: the server did not answer. Try again.");
      button.disabled = false;
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      showError(body.detail || `The message could not be sent (${response.status}).`);
      button.disabled = false;
      return;
    }
    input.value = "";
    await reload();
  }

  if (form) {
    form.addEventListener("submit", send);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
    });
  }
  render(initial);
})();
