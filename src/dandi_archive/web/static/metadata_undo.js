// The metadata editor's "Undo last change" button. The form's state before each change
// is kept on a stack; Undo puts the last one back. Adding or removing a list entry is a
// round trip to the server (the form works without JavaScript), so the stack is kept in
// sessionStorage across it, and undoing such a step posts the earlier state back to be
// shown again (_render), since its inputs are no longer on the page.
(() => {
  const form = document.querySelector("form.metadata");
  const button = document.getElementById("undo");
  if (!form || !button) return;
  const status = document.getElementById("undo-status");
  const key = "metadata-undo:" + form.getAttribute("action");
  const tracked = (el) =>
    el.name && el.name !== "csrf_token" && !["submit", "button", "reset"].includes(el.type);
  const isBox = (el) => el.type === "checkbox" || el.type === "radio";

  // A state: [name, value, checked-or-null] for each input, in the page's order.
  const capture = () =>
    [...form.elements].filter(tracked).map((el) => [el.name, el.value, isBox(el) ? el.checked : null]);
  const layout = (entries) => entries.map((e) => e[0] + (e[2] === null ? "" : "?")).join("\n");

  const labelOf = (el) => {
    const own = el.labels && el.labels[0];
    const legend = el.closest("fieldset") && el.closest("fieldset").querySelector("legend");
    return ((own || legend || {}).textContent || el.name).replace(/\s*\(required\)\s*/, "").trim();
  };
  const say = (text) => { status.textContent = text; };
  const reveal = (el) => {
    for (let node = el; node; node = node.parentElement) if (node.tagName === "DETAILS") node.open = true;
    el.scrollIntoView({ block: "center" });
  };

  let stack = [];
  let current = capture();
  // Back from a round trip (add, remove, save refused, undo): the stack goes on.
  const saved = JSON.parse(sessionStorage.getItem(key) || "null");
  sessionStorage.removeItem(key);
  if (saved && form.hasAttribute("data-unsaved")) {
    stack = saved.stack;
    if (saved.said) say(saved.said);
  }
  const refresh = () => {
    button.hidden = false;
    button.setAttribute("aria-disabled", stack.length ? "false" : "true");
    button.title = stack.length ? "Undo: " + stack[stack.length - 1].what : "Nothing to undo";
  };

  form.addEventListener("change", (event) => {
    const after = capture();
    if (JSON.stringify(after) === JSON.stringify(current)) return;
    stack.push({ entries: current, what: "change to " + labelOf(event.target) });
    current = after;
    refresh();
  });

  form.addEventListener("submit", (event) => {
    const submitter = event.submitter;
    const what = submitter && submitter.name ? submitter.textContent.trim().toLowerCase() : "";
    const kept = what ? [...stack, { entries: current, what }] : stack;
    sessionStorage.setItem(key, JSON.stringify({ stack: kept }));
  });

  const undo = () => {
    const last = stack.pop();
    if (!last) { say("Nothing to undo."); return; }
    const inputs = [...form.elements].filter(tracked);
    if (layout(last.entries) === layout(current)) {
      let first = null;
      inputs.forEach((el, i) => {
        const [, value, checked] = last.entries[i];
        const before = isBox(el) ? el.checked : el.value;
        if (isBox(el)) el.checked = checked; else el.value = value;
        if (!first && before !== (isBox(el) ? el.checked : el.value)) first = el;
      });
      current = capture();
      if (first) reveal(first);
      say("Undone: " + last.what + ".");
      refresh();
      return;
    }
    // Other inputs than now (an entry added or removed): the server shows that state.
    sessionStorage.setItem(key, JSON.stringify({ stack, said: "Undone: " + last.what + "." }));
    const post = document.createElement("form");
    post.method = "post";
    post.action = form.getAttribute("action");
    post.hidden = true;
    const add = (name, value) => {
      const input = document.createElement("input");
      input.type = "hidden"; input.name = name; input.value = value;
      post.append(input);
    };
    add("csrf_token", form.elements.csrf_token.value);
    add("_render", "1");
    for (const [name, value, checked] of last.entries) if (checked !== false) add(name, value);
    document.body.append(post);
    post.submit();
  };
  button.addEventListener("click", undo);
  refresh();
})();
