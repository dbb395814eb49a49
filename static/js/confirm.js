// A form with data-confirm="question" asks before it submits. A listener in a file rather
// than an onsubmit attribute: the Content-Security-Policy allows no inline script.
document.addEventListener("submit", (event) => {
  const question = event.target instanceof HTMLFormElement && event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
