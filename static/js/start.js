// The start page's "Test connection" buttons: one POST to /api/models/<id>/test, and its
// answer (ok and latency, or what went wrong) written next to the button as text.
document.querySelectorAll("form.test-connection").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const output = form.querySelector("output");
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    button.disabled = true;
    output.className = "";
    output.textContent = "Calling the model…";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "X-CSRFToken": token, Accept: "application/json" },
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok && body.ok) {
        output.className = "ok";
        output.textContent = `Connected: answered in ${body.latency_ms} ms.`;
      } else {
        output.className = "error";
        output.textContent = body.message || body.detail || `The test failed (HTTP ${response.status}).`;
      }
    } catch (error) {
      output.className = "error";
      output.textContent = "The test could not be sent: is the server reachable?";
    } finally {
      button.disabled = false;
    }
  });
});
