// A few DOM builders: every page is built from these, text always set as text (never as HTML).
import { t } from "./i18n.js";

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// An API error with the field it names: "price_minor: Input should be greater than 0".
export function errorBox(error) {
  const box = h("div", { class: "error", role: "alert", dataset: { code: error.code || "" } });
  if (error.field) box.append(h("span", { class: "field" }, error.field), ": ");
  box.append(error.message || String(error));
  if (error.status) box.append(h("span", { class: "muted" }, ` (${error.status} ${error.code})`));
  return box;
}

export function notice(text) {
  return h("div", { class: "notice", role: "status" }, text);
}

// Runs an action, showing its error (or its success text) in `place`; returns the action's result or undefined.
export async function attempt(place, action, success) {
  place.replaceChildren();
  try {
    const result = await action();
    if (success) place.append(notice(typeof success === "function" ? success(result) : success));
    return result;
  } catch (error) {
    place.append(errorBox(error));
    return undefined;
  }
}

// columns: [{key, label, render?(row), num?}]
export function table(columns, rows, { empty = t("common.empty"), testid } = {}) {
  if (!rows.length) return h("p", { class: "muted", "data-testid": testid }, empty);
  return h(
    "table",
    { "data-testid": testid },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.render ? c.render(row) : row[c.key] ?? ""))),
      ),
    ),
  );
}

export function field(label, control) {
  return h("label", {}, label, control);
}

export function input(name, attributes = {}) {
  return h("input", { name, ...attributes });
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
  );
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function status(value) {
  return h("span", { class: `status ${value}` }, t(`status.${value}`, {}, value));
}

export function when(iso) {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "";
}
