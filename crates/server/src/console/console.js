// The console's one script. Every page works without it; it only adds:
// copy buttons beside secrets, a confirmation before forms marked
// data-confirm, a live check of slug fields marked data-slug-check, and a
// preview of an image chosen for upload.
"use strict";

for (const secret of document.querySelectorAll("code.secret")) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary copy";
  button.textContent = "Copy";
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret.textContent.trim());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select the text to copy it";
    }
  });
  secret.after(button);
}

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

for (const input of document.querySelectorAll("input[data-slug-check]")) {
  const status = document.createElement("small");
  status.setAttribute("aria-live", "polite");
  status.className = "slug-status";
  input.after(status);
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const slug = input.value.trim();
    if (!slug || slug === input.dataset.current) {
      status.textContent = "";
      return;
    }
    timer = setTimeout(async () => {
      const url = `/${input.dataset.slugCheck}/slug?slug=${encodeURIComponent(slug)}`;
      const answer = await fetch(url).then((r) => r.json()).catch(() => null);
      if (input.value.trim() !== slug || !answer) return;
      if (answer.available === true) status.textContent = `“${slug}” is free.`;
      else if (answer.available === false) status.textContent = `“${slug}” is taken.`;
      else status.textContent = answer.slugified ? `Not a slug; perhaps “${answer.slugified}”.` : answer.message || "";
    }, 300);
  });
}

for (const input of document.querySelectorAll("input[type=file][accept^=image]")) {
  const preview = document.createElement("img");
  preview.className = "preview chosen";
  preview.alt = "The image chosen, before it is sent";
  preview.hidden = true;
  input.after(preview);
  input.addEventListener("change", () => {
    const [file] = input.files;
    if (!file) {
      preview.hidden = true;
      return;
    }
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      preview.src = reader.result;
      preview.hidden = false;
    });
    reader.readAsDataURL(file);
  });
}
