// The inbox's count in the top bar, kept current while a page is open, and a browser
// notification when a new question arrives, once the person allowed notifications on the
// inbox page (never asked unprompted: the browser's prompt follows their click only).
(() => {
  const badge = document.getElementById("inbox-count");
  if (!badge) return;
  const pollMs = Number(badge.dataset.pollMs) || 15000;
  let known = null; // the questions already seen: none are "new" on the first look

  const keyOf = (q) => `${q.run_id} ${q.activity_key}`;

  function show(count) {
    badge.textContent = String(count);
    badge.hidden = count === 0;
  }

  function notify(question) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const note = new Notification(`${question.team_name} asks for you`, {
      body: question.prompt || "A run is waiting for an answer.",
      tag: keyOf(question),
    });
    note.onclick = () => {
      window.focus();
      window.location.assign(question.run_url);
    };
  }

  async function poll() {
    try {
      const response = await fetch("/api/inbox", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const inbox = await response.json();
      show(inbox.count);
      const keys = new Set(inbox.questions.map(keyOf));
      if (known !== null) inbox.questions.filter((q) => !known.has(keyOf(q))).forEach(notify);
      known = keys;
      document.dispatchEvent(new CustomEvent("inbox:changed", { detail: inbox }));
    } catch {
      // Offline for a moment: the next poll tries again.
    }
  }

  poll();
  setInterval(poll, pollMs);

  // The inbox page's "Notify me" button: asks the browser, and says how it went.
  const button = document.getElementById("inbox-notify");
  const state = document.getElementById("inbox-notify-state");
  if (!button || !state) return;
  function describe() {
    if (!("Notification" in window)) {
      button.hidden = true;
      state.textContent = "This browser cannot show notifications.";
    } else if (Notification.permission === "granted") {
      button.hidden = true;
      state.textContent = "You are notified when a new question arrives while a page of the site is open.";
    } else if (Notification.permission === "denied") {
      button.hidden = true;
      state.textContent = "Notifications are blocked for this site: allow them in the browser's site settings to be told of new questions.";
    } else {
      button.hidden = false;
      state.textContent = "";
    }
  }
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    describe();
  });
  describe();
})();
