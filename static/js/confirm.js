// A form with data-confirm="question" asks before it submits. A listener in a file rather
// than an onsubmit attribute: the Content-Security-Policy allows no inline script.
document.addEventListener("submit", (event) => {
  const question = event.target instanceof HTMLFormElement && event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// The workspace switcher in the top bar switches as soon as another workspace is picked; its
// button stays for browsers without JavaScript.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.form && select.dataset.autosubmit !== undefined) {
    select.form.requestSubmit();
  }
});
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  const button = select.form && select.form.querySelector("button[type=submit]");
  if (button) button.classList.add("visually-hidden");
});
