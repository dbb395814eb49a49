// The "Schedules and triggers" page: copy buttons, the time zone the browser is in as the
// default, and the next firings of the schedule being typed (computed by the server).
const copyStatus = document.getElementById("copy-status");

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http (a local install): the old way, through a selected text area.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element && event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await copyText(source.textContent.trim());
    button.dataset.copied = "true";
    if (copyStatus) copyStatus.textContent = `${button.textContent.trim()}: copied.`;
  } catch {
    if (copyStatus) copyStatus.textContent = "Copying failed: select the text and copy it by hand.";
  }
});

const form = document.getElementById("schedule-form");
if (form) {
  const zone = form.querySelector("select[name=timezone]");
  const cron = form.querySelector("input[name=cron]");
  const preview = form.querySelector("[data-testid=schedule-preview]");
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // Only for a fresh form: a form sent back with an error keeps what the person chose.
  if (zone && !form.querySelector(".error") && browserZone && zone.querySelector(`option[value="${browserZone}"]`)) {
    zone.value = browserZone;
  }
  let timer = 0;
  let asked = 0;
  const show = async () => {
    if (!cron.value.trim()) {
      preview.textContent = "";
      return;
    }
    const ask = ++asked;
    const query = new URLSearchParams({ cron: cron.value, timezone: zone.value });
    const response = await fetch(`${form.dataset.previewUrl}?${query}`, { headers: { Accept: "application/json" } });
    if (ask !== asked || !response.ok) return; // a newer question is on its way
    const answer = await response.json();
    preview.replaceChildren();
    if (answer.error) {
      preview.className = "preview error";
      preview.textContent = answer.error;
      return;
    }
    preview.className = "preview";
    const title = document.createElement("span");
    title.textContent = `Next firings (${zone.value}): `;
    const list = document.createElement("ul");
    list.className = "firings";
    for (const iso of answer.firings) {
      const item = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = iso;
      time.textContent = new Date(iso).toLocaleString(undefined, {
        timeZone: zone.value, weekday: "short", day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", hour12: false,
      });
      item.append(time);
      list.append(item);
    }
    preview.append(title, list);
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(show, 300);
  };
  cron.addEventListener("input", soon);
  zone.addEventListener("change", soon);
  if (cron.value) show();
}
