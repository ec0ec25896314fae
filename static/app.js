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

// The authoring page has several forms; text typed into the sections form
// is lost if another form (timeline, action items) is sent first. Warn.
const editor = document.querySelector("form.editor");
if (editor) {
  let dirty = false;
  editor.addEventListener("input", () => { dirty = true; });
  editor.addEventListener("submit", () => { dirty = false; });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });
  // The review checklist follows the text: a moment after typing stops,
  // the server checks the sections as typed and sends the panel back.
  const panel = document.querySelector("[data-live-url]");
  let timer;
  if (panel) {
    editor.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const response = await fetch(panel.dataset.liveUrl, {
          method: "POST",
          body: new URLSearchParams(new FormData(editor)),
          credentials: "same-origin",
        });
        if (response.ok) panel.innerHTML = await response.text();
      }, 500);
    });
  }
}

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
