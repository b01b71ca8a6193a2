// Small enhancements; every page works without them.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  // An <input> (the share link) holds its text as its value.
  const text = source ? (source.value ?? source.textContent).trim() : "";
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (err) {
    // No clipboard (plain http, old browser): select the text so Ctrl+C copies it.
    if (source.select) {
      source.select();
    } else {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    button.textContent = "Selected: press Ctrl+C";
  }
  button.setAttribute("aria-live", "polite");
  setTimeout(() => { button.textContent = label; }, 2500);
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// On a phone the search filters sit above the results, folded so the results show first.
document.addEventListener("DOMContentLoaded", () => {
  const filters = document.getElementById("filters");
  if (filters && window.matchMedia("(max-width: 48rem)").matches) filters.open = false;
});

// The metadata editor: after a save with problems, start at the first one; following a
// link of the problem summary opens the folded section holding that field.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.metadata");
  if (!form) return;
  const reveal = (element) => {
    for (let node = element; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
  };
  document.querySelectorAll(".problem-links a").forEach((link) => {
    link.addEventListener("click", () => reveal(document.querySelector(link.hash)));
  });
  const first = form.querySelector('[aria-invalid="true"]');
  if (first && document.querySelector("[data-after-save]")) {
    reveal(first);
    first.focus();
  }
});

// The metadata JSON editor: after malformed JSON, the caret goes where reading stopped.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("textarea[data-error-line]");
  if (!box) return;
  const line = Number(box.dataset.errorLine);
  const lines = box.value.split("\n");
  let at = Number(box.dataset.errorColumn) - 1;
  for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
  box.focus();
  box.setSelectionRange(at, at);
  const height = parseFloat(getComputedStyle(box).lineHeight) || 20;
  box.scrollTop = Math.max(0, (line - 3) * height);
});
