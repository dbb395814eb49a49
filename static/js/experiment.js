// The experiment page, live: while the experiment runs, its websocket (/ws/experiments/<id>/)
// sends its progress, and the bar, the counts, the cost and each scorer's running mean follow
// without a reload. New scored items are offered ("N new results: Show", which swaps the
// table in place); when the experiment ends the table and the summary are brought up to date
// once. A socket that cannot connect leaves the page to reload itself every few seconds, as
// it did before there was a socket. Everything is put in as text, never as HTML.
(() => {
  const root = document.getElementById("experiment-live");
  if (!root || root.dataset.status !== "running") return;
  const id = root.dataset.experimentId;
  const bar = document.getElementById("progress");
  const items = document.getElementById("items");
  const note = document.getElementById("live-note");
  const newResults = document.getElementById("new-results");
  const RELOAD_MS = 3000;
  let ended = false;
  let attempts = 0;
  let shownDone = Number(items.dataset.done || 0);
  let lastDone = shownDone;

  const text = (elementId, value) => {
    document.getElementById(elementId).textContent = value;
  };
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  function fallBackToReloading() {
    note.textContent = "Live updates are unavailable: this page reloads every few seconds.";
    note.hidden = false;
    setTimeout(() => location.reload(), RELOAD_MS);
  }

  function showFigures(message) {
    const p = message.progress;
    bar.max = p.total;
    bar.value = p.done;
    const percent = p.total ? Math.round((100 * p.done) / p.total) : 0;
    bar.textContent = `${percent}%`;
    text("percent", `${percent} %`);
    text("scored", `${p.done} of ${p.total} items scored`);
    text("failed", p.failed ? ` · ${plural(p.failed, "run failed", "runs failed")}` : "");
    text("cancelled", p.cancelled ? ` · ${p.cancelled} cancelled` : "");
    text("in-flight", p.running && message.type !== "ended" ? ` · ${p.running} running` : "");
    text("cost", `$${message.cost_usd.toFixed(4)}`);
    const badge = document.querySelector("#experiment-status .run-status");
    badge.className = `run-status run-status-${message.status}`;
    badge.textContent = message.status.charAt(0).toUpperCase() + message.status.slice(1);
    lastDone = p.done;
  }

  // One row per scorer: the running mean while it runs (the interval is drawn at the end,
  // from every score), then the summary's mean and interval.
  function showScores(message) {
    const body = document.querySelector("#summary tbody");
    const figures = message.summary || {};
    const names = Object.keys(message.summary || message.means);
    if (names.length) body.querySelector(".no-scores")?.remove();
    for (const name of names) {
      let row = [...body.rows].find((r) => r.dataset.scorer === name);
      if (!row) {
        row = body.insertRow();
        row.dataset.scorer = name;
        for (let i = 0; i < 3; i++) row.insertCell();
        row.cells[0].textContent = name;
      }
      const summary = figures[name];
      const mean = summary ? summary.mean : message.means[name];
      row.cells[1].textContent = mean.toFixed(3);
      row.cells[2].textContent = summary
        ? `${summary.low.toFixed(3)} – ${summary.high.toFixed(3)}`
        : "when it ends";
      row.cells[2].classList.toggle("muted", !summary);
    }
  }

  function offerNewResults() {
    const waiting = lastDone - shownDone;
    newResults.hidden = waiting <= 0;
    if (waiting > 0) text("new-results-count", `${plural(waiting, "new result", "new results")}.`);
  }

  // The page's own table, rendered by the server, swapped in without a navigation.
  async function showResults() {
    const done = lastDone;
    try {
      const response = await fetch(location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("#items tbody");
      if (!fresh) return;
      items.tBodies[0].replaceWith(document.adoptNode(fresh));
      shownDone = Math.max(shownDone, done);
      offerNewResults();
    } catch {
      // The next message or click tries again.
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws/experiments/${id}/`);
    let heard = false;
    socket.onmessage = (e) => {
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return;
      }
      if (message.type !== "progress" && message.type !== "ended") return;
      heard = true;
      attempts = 0;
      note.hidden = true;
      showFigures(message);
      showScores(message);
      if (message.type === "ended") {
        ended = true;
        root.dataset.status = message.status;
        showResults();
      } else {
        offerNewResults();
      }
    };
    socket.onclose = () => {
      if (ended) return;
      attempts += 1;
      // Never reached, or lost again and again: the old way. Else connect again.
      if (!heard || attempts > 3) fallBackToReloading();
      else setTimeout(connect, 1000 * attempts);
    };
  }

  document.getElementById("show-new-results").addEventListener("click", showResults);
  connect();
})();
