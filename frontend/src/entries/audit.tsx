// The audit page is server-rendered; this only fills in the hash-chain verification result.
import { api } from "../lib/api";
import { verificationText, type Verification } from "../run/verification";

const target = document.getElementById("verification");
const url = target?.dataset.verifyUrl;
if (target && url) {
  api<Verification>("GET", url.replace(/^\/api/, ""))
    .then((result) => {
      const { text, ok } = verificationText(result);
      target.textContent = text;
      target.classList.add(ok ? "ok" : "bad");
    })
    .catch(() => {
      target.textContent = "The chain could not be checked right now. Reload the page to try again.";
      target.classList.add("unknown");
    });
}
