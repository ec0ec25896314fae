// Small progressive enhancements; every page works without this file.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  navigator.clipboard.writeText(field.value).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// Pasting a screenshot on a page with an upload form attaches it: the image
// goes into the form's file field and the form is sent. Text pastes are
// left alone.
const pasteForm = document.querySelector("form[data-paste-target]");
if (pasteForm) {
  document.addEventListener("paste", (event) => {
    const files = Array.from(event.clipboardData ? event.clipboardData.files : []);
    const image = files.find((file) => file.type.startsWith("image/"));
    if (!image) return;
    event.preventDefault();
    const input = pasteForm.querySelector("input[type=file]");
    const transfer = new DataTransfer();
    transfer.items.add(image);
    input.files = transfer.files;
    pasteForm.requestSubmit();
  });
}

// Commenting on a passage: selecting text inside a section of the reading
// page offers a button that opens that section's comment form with the
// passage quoted. Without script, comments are on the whole section.
const commentable = document.querySelectorAll("[data-commentable]");
if (commentable.length) {
  const offer = document.createElement("button");
  offer.type = "button";
  offer.className = "btn btn-small comment-offer";
  offer.textContent = "Comment on this passage";
  offer.hidden = true;
  document.body.appendChild(offer);
  let chosen = null;
  document.addEventListener("selectionchange", () => {
    const selection = document.getSelection();
    const text = selection ? selection.toString().trim() : "";
    const node = selection && selection.anchorNode;
    const section = node && (node.nodeType === 1 ? node : node.parentElement);
    const host = section && section.closest("[data-commentable]");
    if (!text || !host) {
      if (document.activeElement !== offer) offer.hidden = true;
      return;
    }
    const box = selection.getRangeAt(0).getBoundingClientRect();
    chosen = { anchor: host.dataset.commentable, quote: text.slice(0, 2000) };
    offer.style.top = `${window.scrollY + box.bottom + 6}px`;
    offer.style.left = `${window.scrollX + box.left}px`;
    offer.hidden = false;
  });
  offer.addEventListener("click", () => {
    if (!chosen) return;
    const form = document.getElementById(`comment-form-${chosen.anchor}`);
    if (!form) return;
    form.closest("details").open = true;
    form.querySelector("input[name=quote]").value = chosen.quote;
    const shown = form.querySelector("[data-quote-shown]");
    shown.textContent = `“${chosen.quote}”`;
    shown.hidden = false;
    offer.hidden = true;
    form.querySelector("textarea").focus();
  });
}

// Pages say which of their parts need script, and which stand in for it.
document.documentElement.classList.add("js");

// The authoring page: one form for the whole postmortem. Script adds rows
// in place, autosaves the form as a draft every few seconds, keeps the
// checklist live, saves on Ctrl/Cmd+S and catches leaving with unsaved
// changes. Without it the same form posts everything in one go.
const editor = document.querySelector("form#editor");
if (editor) setUpEditor(editor);

function setUpEditor(form) {
  const status = document.getElementById("autosave-status");
  const changed = new Set();
  let dirtySinceDraft = false;
  let submitting = false;

  const problems = document.getElementById("problems") || document.getElementById("conflicts");
  if (problems) problems.focus();

  const partOf = (element) => {
    const part = element.closest("[data-part]");
    return part ? part.dataset.part : "the postmortem";
  };
  const body = () => new URLSearchParams(new FormData(form));

  form.addEventListener("input", (event) => {
    changed.add(partOf(event.target));
    dirtySinceDraft = true;
    checkLength(event.target);
    scheduleChecklist();
  });
  form.addEventListener("change", (event) => {
    changed.add(partOf(event.target));
    dirtySinceDraft = true;
  });

  // A section longer than the limit is named at once, beside the field.
  function checkLength(field) {
    const max = Number(field.dataset.max || 0);
    if (!max) return;
    let note = field.parentElement.querySelector(".length-error");
    const over = field.value.length > max;
    if (over && !note) {
      note = document.createElement("p");
      note.className = "field-error length-error";
      field.after(note);
    }
    if (over) {
      note.textContent = `⚠ This is ${field.value.length.toLocaleString("en")} characters; the limit is ${max.toLocaleString("en")}. Shorten it before saving.`;
      field.setAttribute("aria-invalid", "true");
    } else if (note) {
      note.remove();
      field.removeAttribute("aria-invalid");
    }
  }

  // Autosave: the form as typed goes to the server as this author's draft.
  async function keepDraft() {
    if (!dirtySinceDraft || submitting) return;
    dirtySinceDraft = false;
    try {
      const response = await fetch(form.dataset.draftUrl, { method: "POST", body: body(), credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const at = new Date().toTimeString().slice(0, 5);
      status.textContent = `Draft kept at ${at} — not saved to the postmortem yet.`;
      status.className = "autosave";
    } catch (error) {
      dirtySinceDraft = true;
      status.textContent = "Could not keep a draft just now; keep this tab open and save soon.";
      status.className = "autosave autosave-problem";
    }
  }
  setInterval(keepDraft, 3000);
  window.addEventListener("pagehide", () => {
    if (dirtySinceDraft && !submitting) navigator.sendBeacon(form.dataset.draftUrl, body());
  });

  // The checklist follows the text a moment after typing stops.
  const panel = document.getElementById("checklist");
  let checklistTimer;
  function scheduleChecklist() {
    clearTimeout(checklistTimer);
    checklistTimer = setTimeout(async () => {
      const response = await fetch(form.dataset.liveUrl, { method: "POST", body: body(), credentials: "same-origin" });
      if (response.ok) panel.innerHTML = await response.text();
    }, 500);
  }

  form.addEventListener("submit", (event) => {
    const tooLong = form.querySelector(".length-error");
    if (tooLong) {
      event.preventDefault();
      tooLong.previousElementSibling.focus();
      return;
    }
    submitting = true;
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // Rows: add a copy of the last empty row, remove new rows, move factors.
  let added = 0;
  form.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      addRow(form.querySelector(`[data-rows='${add.dataset.addRow}']`));
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      const row = remove.closest("[data-row]");
      changed.add(partOf(row));
      dirtySinceDraft = true;
      row.remove();
      return;
    }
    const move = event.target.closest("[data-move]");
    if (move) {
      const row = move.closest("[data-row]");
      const other = move.dataset.move === "up" ? row.previousElementSibling : row.nextElementSibling;
      if (!other) return;
      if (move.dataset.move === "up") other.before(row); else other.after(row);
      changed.add(partOf(row));
      dirtySinceDraft = true;
    }
  });
  function addRow(rows) {
    const template = rows.querySelector("[data-row]:last-of-type");
    const row = template.cloneNode(true);
    added += 1;
    row.querySelectorAll("[id]").forEach((element) => { element.id = `${element.id}-added${added}`; });
    row.querySelectorAll("label[for]").forEach((label) => { label.htmlFor = `${label.htmlFor}-added${added}`; });
    row.querySelectorAll("input:not([type=hidden]), textarea").forEach((field) => { field.value = ""; });
    row.querySelectorAll(".field-error").forEach((note) => note.remove());
    row.classList.remove("row-problem");
    // Keys and defaults come from the empty row the server rendered.
    template.querySelectorAll("input[type=hidden]").forEach((field, index) => {
      row.querySelectorAll("input[type=hidden]")[index].value = field.value;
    });
    template.querySelectorAll("select").forEach((select, index) => {
      row.querySelectorAll("select")[index].value = select.value;
    });
    template.after(row);
    const first = row.querySelector("input:not([type=hidden]), textarea");
    if (first) first.focus();
  }

  // Screenshots: uploaded at once, with no page load; pasting works too.
  const file = document.getElementById("screenshot-file");
  const uploadStatus = document.querySelector("[data-upload-status]");
  async function upload(image) {
    const data = new FormData();
    data.append("file", image, image.name || "screenshot.png");
    const token = encodeURIComponent(form.querySelector("[name=_csrf]").value);
    uploadStatus.textContent = "Attaching…";
    uploadStatus.className = "small";
    const response = await fetch(`${file.dataset.uploadUrl}?_csrf=${token}`, { method: "POST", body: data, credentials: "same-origin" });
    if (response.ok && response.redirected) {
      uploadStatus.textContent = `Attached ${image.name || "the screenshot"}.`;
      const item = document.createElement("li");
      const img = document.createElement("img");
      img.src = URL.createObjectURL(image);
      img.alt = image.name || "screenshot";
      item.append(img);
      document.querySelector("[data-thumbs]").append(item);
      const empty = document.querySelector("#screenshots [data-empty]");
      if (empty) empty.remove();
    } else {
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const problem = page.querySelector(".form-error, .field-error, main p");
      uploadStatus.textContent = `⚠ Not attached: ${problem ? problem.textContent.trim() : response.status}`;
      uploadStatus.className = "small field-error";
    }
  }
  if (file) {
    file.addEventListener("change", () => { if (file.files[0]) upload(file.files[0]); });
    document.addEventListener("paste", (event) => {
      const image = Array.from(event.clipboardData ? event.clipboardData.files : []).find((f) => f.type.startsWith("image/"));
      if (!image) return;
      event.preventDefault();
      upload(image);
    });
  }

  // Leaving with unsaved changes: say what they are and offer to save.
  const dialog = document.getElementById("leave-dialog");
  let leaveTo = null;
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || submitting || changed.size === 0 || link.getAttribute("href").startsWith("#")) return;
    if (link.target === "_blank" || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    leaveTo = link.href;
    dialog.querySelector("[data-unsaved-list]").textContent = Array.from(changed).join(", ");
    dialog.showModal();
  });
  dialog.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-leave]");
    if (!choice) return;
    dialog.close();
    if (choice.dataset.leave === "save") form.requestSubmit();
    if (choice.dataset.leave === "go") {
      keepDraft().finally(() => { submitting = true; window.location.href = leaveTo; });
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (changed.size > 0 && !submitting) event.preventDefault();
  });

  document.querySelectorAll("[data-dismiss]").forEach((button) => {
    button.addEventListener("click", () => document.getElementById(button.dataset.dismiss).remove());
  });
}

// On a phone the main menu folds behind a button.
const menuToggle = document.querySelector(".menu-toggle");
if (menuToggle) {
  menuToggle.addEventListener("click", () => {
    const open = menuToggle.getAttribute("aria-expanded") !== "true";
    menuToggle.setAttribute("aria-expanded", String(open));
    document.querySelector(".topbar").classList.toggle("menu-open", open);
  });
}
