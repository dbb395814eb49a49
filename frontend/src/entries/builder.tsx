// Placeholder: the team builder (issue 5) mounts here.
const root = document.getElementById("builder-root");
if (root) root.textContent = "The builder is loading.";
