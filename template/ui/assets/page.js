// Inline validation, before anything is sent. The API validates again and its field errors are
// shown in the same places, so the page stays correct without JavaScript too.
"use strict";

const form = document.getElementById("predict-form");

function check(input) {
  const value = input.value.trim();
  if (input.type !== "number" || value === "") {
    return "";
  }
  const number = Number(value);
  const unit = input.dataset.unit ? " " + input.dataset.unit : "";
  if (!Number.isFinite(number)) {
    return "Enter a number, or leave it blank if unknown.";
  }
  if (input.min !== "" && number < Number(input.min)) {
    return "Must be at least " + input.min + unit + ".";
  }
  if (input.max !== "" && number > Number(input.max)) {
    return "Must be at most " + input.max + unit + ".";
  }
  return "";
}

function show(input) {
  const message = check(input);
  const field = input.closest(".field");
  document.getElementById("error-" + input.name).textContent = message;
  field.classList.toggle("invalid", message !== "");
  input.setAttribute("aria-invalid", message !== "" ? "true" : "false");
  return message === "";
}

if (form) {
  const inputs = Array.from(form.querySelectorAll("input, select"));
  for (const input of inputs) {
    input.addEventListener("input", () => show(input));
    input.addEventListener("blur", () => show(input));
  }
  form.addEventListener("submit", (event) => {
    const invalid = inputs.filter((input) => !show(input));
    if (invalid.length > 0) {
      event.preventDefault();
      invalid[0].focus();
      return;
    }
    const button = document.getElementById("predict-button");
    button.disabled = true;
    button.textContent = "Predicting…";
  });
}
