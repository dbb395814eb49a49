/* The chat widget of a published team, for another site's pages:
 *   <script src="https://<our host>/static/js/widget.js" data-publication="<slug>" async></script>
 * adds a button that opens a small chat panel. It talks to /p/<slug>/widget/... on the
 * script's own origin; the server answers only pages of the origins the publisher lists.
 * Everything lives in a shadow root, so the page's CSS does not reach it, and what the
 * model wrote is put in as text, never as HTML. No cookie is sent or kept. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var slug = script.getAttribute("data-publication") || "";
  if (!/^[a-z0-9-]{1,50}$/.test(slug)) return;
  var base = new URL(script.src).origin + "/p/" + slug + "/widget/";
  var title = script.getAttribute("data-title") || "Chat with us";

  var css = [
    ":host{all:initial;position:fixed;right:16px;bottom:16px;z-index:2147483000;",
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328}",
    "button{font:inherit;cursor:pointer}",
    ".open{border:0;border-radius:24px;padding:12px 18px;background:#1f4fd1;color:#fff;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".panel{display:none;flex-direction:column;width:360px;max-width:calc(100vw - 32px);",
    "height:480px;max-height:calc(100vh - 96px);background:#fff;border:1px solid #d0d7de;",
    "border-radius:12px;box-shadow:0 8px 28px rgba(0,0,0,.25);overflow:hidden;margin-bottom:8px}",
    ".panel.shown{display:flex}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:10px 12px;",
    "background:#1f4fd1;color:#fff;font-weight:600}",
    "header button{background:none;border:0;color:#fff;font-size:18px;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}",
    ".msg{margin:0;max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;",
    "overflow-wrap:anywhere}",
    ".user{align-self:flex-end;background:#1f4fd1;color:#fff}",
    ".assistant{align-self:flex-start;background:#f1f3f5}",
    ".writing{color:#57606a;font-style:italic}",
    ".notice{color:#a40e26;background:#ffebe9;border:1px solid #ffcecb;border-radius:8px;",
    "padding:8px 10px;margin:0}",
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #d0d7de}",
    "textarea{flex:1;font:inherit;resize:none;border:1px solid #d0d7de;border-radius:8px;",
    "padding:6px 8px;min-height:38px}",
    "form button{border:0;border-radius:8px;background:#1f4fd1;color:#fff;padding:0 14px}",
    "form button:disabled{opacity:.5;cursor:default}",
    ".wrap{display:flex;flex-direction:column;align-items:flex-end}",
  ].join("");

  var host = document.createElement("div");
  host.setAttribute("data-chat-widget", slug);
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = css;
  root.appendChild(style);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text != null) node.textContent = text;
    return node;
  }

  var wrap = el("div", { class: "wrap" });
  var panel = el("section", { class: "panel", role: "dialog", "aria-label": title });
  var header = el("header");
  header.appendChild(el("span", {}, title));
  var close = el("button", { type: "button", "aria-label": "Close the chat" }, "\u00d7");
  header.appendChild(close);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  var form = el("form");
  var input = el("textarea", { "aria-label": "Your message", maxlength: "4000", rows: "1" });
  var send = el("button", { type: "submit" }, "Send");
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);
  var open = el("button", { type: "button", class: "open", "aria-expanded": "false" }, title);
  wrap.appendChild(panel);
  wrap.appendChild(open);
  root.appendChild(wrap);

  var token = null;
  var polling = null;
  var busy = false;
  var refused = false;

  function notice(text) {
    var old = log.querySelector(".notice");
    if (old) old.remove();
    log.appendChild(el("p", { class: "notice", role: "alert" }, text));
    log.scrollTop = log.scrollHeight;
  }

  function refuse(text) {
    refused = true;
    input.disabled = true;
    send.disabled = true;
    notice(text);
  }

  function draw(conversation) {
    var old = log.querySelector(".notice");
    log.textContent = "";
    conversation.messages.forEach(function (message) {
      if (message.role === "user") {
        log.appendChild(el("p", { class: "msg user" }, message.content));
      } else if (message.content == null) {
        log.appendChild(el("p", { class: "msg assistant writing" }, "Writing an answer\u2026"));
      } else {
        log.appendChild(el("p", { class: "msg assistant" }, message.content));
      }
    });
    if (old) log.appendChild(old);
    log.scrollTop = log.scrollHeight;
  }

  // fetch rejects when the server names no CORS origin: this site is not one it lists.
  // The token goes in a header, never in the URL: URLs end up in access logs.
  function call(method, path, body) {
    var headers = {};
    if (token) headers.Authorization = "Bearer " + token;
    var options = { method: method, credentials: "omit", mode: "cors", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(base + path, options).then(
      function (response) {
        return response.json().then(
          function (data) {
            return { status: response.status, data: data, response: response };
          },
          function () {
            return { status: response.status, data: {}, response: response };
          }
        );
      },
      function () {
        return { status: 0, data: {} };
      }
    );
  }

  function full(result) {
    var problems = (result.data && result.data.problems) || [];
    return (
      result.status === 409 &&
      problems.some(function (p) {
        return p.code === "conversation_full";
      })
    );
  }

  function problem(result) {
    if (result.status === 0 || result.status === 403) {
      refuse("This chat cannot be used on this site: its publisher has not allowed it here.");
    } else if (result.status === 429) {
      var wait = result.response && result.response.headers.get("Retry-After");
      notice("Too many messages; try again in " + (wait || "a few") + " seconds.");
    } else if (result.status === 404) {
      token = null;
      notice("This conversation has ended; send your message again to start a new one.");
    } else if (full(result)) {
      token = null; // the next message starts a new conversation
      notice(result.data.detail);
    } else {
      notice((result.data && result.data.detail) || "Something went wrong; try again.");
    }
  }

  function poll() {
    if (polling || !token) return;
    polling = setInterval(function () {
      call("GET", "conversation").then(function (result) {
        if (result.status !== 200) {
          clearInterval(polling);
          polling = null;
          problem(result);
          return;
        }
        draw(result.data);
        if (!result.data.writing) {
          clearInterval(polling);
          polling = null;
          busy = false;
          send.disabled = refused;
        }
      });
    }, 1000);
  }

  // One start at a time: a message sent while the panel's own start is on its way waits for it.
  var starting = null;
  function started() {
    if (token) return Promise.resolve(true);
    if (!starting) {
      starting = call("POST", "conversations").then(function (result) {
        starting = null;
        if (result.status !== 201) {
          problem(result);
          return false;
        }
        token = result.data.token;
        return true;
      });
    }
    return starting;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var content = input.value.trim();
    if (!content || busy || refused) return;
    busy = true;
    send.disabled = true;
    started().then(function (ok) {
      if (!ok) {
        busy = false;
        send.disabled = refused;
        return;
      }
      return call("POST", "conversation/messages", {
        content: content,
      }).then(function (result) {
        if (result.status !== 201) {
          busy = false;
          send.disabled = refused;
          problem(result);
          return;
        }
        input.value = "";
        draw(result.data);
        poll();
      });
    });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function toggle(show) {
    panel.classList.toggle("shown", show);
    open.setAttribute("aria-expanded", String(show));
    open.style.display = show ? "none" : "";
    if (show) {
      input.focus();
      // Start the conversation on opening, so a site the publisher does not list says so
      // before anyone types.
      if (!token && !refused) started();
    }
  }
  open.addEventListener("click", function () {
    toggle(true);
  });
  close.addEventListener("click", function () {
    toggle(false);
  });

  function mount() {
    document.body.appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
