// The merchant's pages: products, a product (rules, settings, stats), inbox, account, payouts, statements.
import * as api from "./api.js";
import { barChart } from "./charts.js";
import { attempt, errorBox, field, formValues, h, input, select, status, table, when } from "./dom.js";
import { language, t } from "./i18n.js";
import { CURRENCY_EXPONENT, formatBps, formatMinor, parseMajor, parsePercent, plainMajor } from "./money.js";

const money = (minor, currency) => formatMinor(minor, currency, language());
const CURRENCIES = Object.keys(CURRENCY_EXPONENT).map((c) => [c, c]);

// ------------------------------------------------------------------ reward rules (shared by create and edit)
function ruleRow(rule = { promoter_tag: "standard", type: "percent", value: 1000 }, currency = "CNY") {
  const shown = rule.type === "percent" ? formatBps(rule.value).replace("%", "") : plainMajor(rule.value, currency);
  const row = h(
    "div",
    { class: "row rule" },
    field(t("rules.tag"), input("promoter_tag", { value: rule.promoter_tag, required: true, size: 12 })),
    field(t("rules.type"), select("type", [["percent", t("rules.percent")], ["fixed", t("rules.fixed")]], rule.type)),
    field(t("rules.value"), input("value", { value: shown, required: true, size: 10 })),
    h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, t("rules.remove")),
  );
  return row;
}

function rulesEditor(rules, currency) {
  const list = h("div", { class: "rules" }, (rules.length ? rules : [undefined]).map((r) => ruleRow(r, currency)));
  const add = h("button", { type: "button", class: "secondary", onclick: () => list.append(ruleRow(undefined, currency)) }, t("rules.add"));
  return { element: h("div", {}, list, add), read: (cur) => readRules(list, cur) };
}

// The rules as the API takes them: percent in basis points, fixed in minor units of the product currency.
function readRules(list, currency) {
  return [...list.querySelectorAll(".rule")].map((row, index) => {
    const type = row.querySelector("[name=type]").value;
    const text = row.querySelector("[name=value]").value;
    let value;
    try {
      value = type === "percent" ? parsePercent(text) : parseMajor(text, currency);
    } catch (error) {
      throw Object.assign(new Error(error.message), { field: `reward_rules[${index}].value` });
    }
    return { promoter_tag: row.querySelector("[name=promoter_tag]").value.trim(), type, value };
  });
}

function ruleText(rule, currency) {
  const value = rule.type === "percent" ? formatBps(rule.value) : money(rule.value, currency);
  return `${rule.promoter_tag}: ${value}`;
}

// ------------------------------------------------------------------ products
export async function productsPage(main) {
  const list = h("div", { "data-testid": "product-list" });
  const message = h("div");
  main.replaceChildren(h("h1", {}, t("products.title")), message, createForm(list), h("h2", {}, t("products.yours")), list);
  await loadProducts(list, message);
}

async function loadProducts(list, message) {
  const page = await attempt(message, () => api.get("/merchant/products", { limit: 100 }));
  if (!page) return;
  list.replaceChildren(
    table(
      [
        { label: t("products.name"), render: (p) => h("a", { href: `#/products/${p.product_id}` }, p.title) },
        { label: t("products.status"), render: (p) => status(p.status) },
        { label: t("products.price"), num: true, render: (p) => money(p.price_minor, p.currency) },
        { label: t("products.rules"), render: (p) => p.reward_rules.map((r) => ruleText(r, p.currency)).join(", ") },
        { label: t("stats.clicks"), num: true, render: (p) => p.counters?.clicks ?? 0 },
        { label: t("stats.promotions"), num: true, render: (p) => p.counters?.promotions ?? 0 },
        { label: t("stats.sales"), num: true, render: (p) => p.counters?.transactions ?? 0 },
      ],
      page.items,
      { testid: "products" },
    ),
  );
}

function createForm(list) {
  const rules = rulesEditor([], "CNY");
  const message = h("div");
  const form = h(
    "form",
    { class: "grid", "data-testid": "create-product" },
    field(t("products.name"), input("title", { required: true })),
    field(t("products.category"), input("category", { required: true, placeholder: "beauty/skincare" })),
    field(t("products.price"), input("price", { required: true, inputmode: "decimal", placeholder: "99.00" })),
    field(t("products.currency"), select("currency", CURRENCIES, "CNY")),
    field(t("products.landing_url"), input("landing_url", { required: true, type: "url", placeholder: "https://" })),
    field(t("products.image_url"), input("image_url", { type: "url", placeholder: "https://" })),
    field(t("products.description"), input("description")),
    field(t("products.holding_days"), input("holding_days", { type: "number", min: 0, max: 90, placeholder: "14" })),
    field(t("products.attribution_days"), input("attribution_days", { type: "number", min: 1, max: 90, placeholder: "30" })),
  );
  const submit = h("button", { type: "submit", "data-testid": "publish" }, t("products.publish"));
  const wrapper = h("section", { class: "card" }, h("h2", {}, t("products.new")), form, h("h2", {}, t("products.rules")), rules.element, h("div", { class: "row" }, submit), message);
  const publish = async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const created = await attempt(
      message,
      () => {
        const body = {
          title: values.title,
          category: values.category,
          currency: values.currency,
          landing_url: values.landing_url,
          reward_rules: rules.read(values.currency),
        };
        try {
          body.price_minor = parseMajor(values.price, values.currency);
        } catch (error) {
          throw Object.assign(new Error(error.message), { field: "price_minor" });
        }
        if (values.image_url) body.image_url = values.image_url;
        if (values.description) body.description = values.description;
        // Sent only when set, so the API's defaults (14 and 30 days) apply otherwise.
        if (values.holding_days !== "") body.holding_days = Number(values.holding_days);
        if (values.attribution_days !== "") body.attribution_days = Number(values.attribution_days);
        return api.post("/merchant/products", body);
      },
      (product) => t("products.published", { title: product.title }),
    );
    if (created) {
      form.reset();
      await loadProducts(list, message.appendChild(h("div")));
    }
  };
  form.addEventListener("submit", publish);
  submit.addEventListener("click", (event) => {
    if (form.reportValidity()) publish(event);
    else event.preventDefault();
  });
  return wrapper;
}

// ------------------------------------------------------------------ one product
async function findProduct(productId) {
  let cursor;
  for (let pageNumber = 0; pageNumber < 50; pageNumber += 1) {
    const page = await api.get("/merchant/products", { limit: 100, cursor });
    const product = page.items.find((p) => p.product_id === productId);
    if (product || !page.next_cursor) return product;
    cursor = page.next_cursor;
  }
  return undefined;
}

export async function productPage(main, productId) {
  const message = h("div");
  main.replaceChildren(h("h1", {}, t("product.title")), message);
  const product = await attempt(message, () => findProduct(productId));
  if (!product) {
    if (!message.childElementCount) message.append(errorBox({ message: t("product.unknown") }));
    return;
  }
  main.replaceChildren(
    h("h1", {}, product.title, " ", status(product.status)),
    h("p", { class: "muted" }, `${product.product_id} · ${product.category} · ${money(product.price_minor, product.currency)}`),
    statusControl(product, main),
    await statsCard(product),
    rulesCard(product),
    settingsCard(product),
  );
}

function statusControl(product, main) {
  const message = h("div");
  const action = product.status === "paused" ? "resume" : "pause";
  const button = h(
    "button",
    {
      type: "button",
      "data-testid": action,
      onclick: async () => {
        const done = await attempt(message, () => api.post(`/merchant/products/${product.product_id}/${action}`));
        if (done) await productPage(main, product.product_id);
      },
    },
    t(`product.${action}`),
  );
  return h("div", { class: "row status-control" }, button, message);
}

function rulesCard(product) {
  const rules = rulesEditor(product.reward_rules, product.currency);
  const message = h("div");
  const save = h(
    "button",
    {
      type: "button",
      onclick: () =>
        attempt(
          message,
          () => api.put(`/merchant/products/${product.product_id}/reward-rules`, { reward_rules: rules.read(product.currency) }),
          t("product.rules_saved"),
        ),
    },
    t("product.save_rules"),
  );
  return h("section", { class: "card" }, h("h2", {}, t("products.rules")), rules.element, h("div", { class: "row" }, save), message);
}

function settingsCard(product) {
  const message = h("div");
  const form = h(
    "form",
    { class: "grid" },
    field(t("products.holding_days"), input("holding_days", { type: "number", min: 0, max: 90, value: product.holding_days ?? 14 })),
    field(t("products.attribution_days"), input("attribution_days", { type: "number", min: 1, max: 90, value: product.attribution_days ?? 30 })),
    h("button", { type: "submit" }, t("product.save_settings")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    attempt(
      message,
      () => api.patch(`/merchant/products/${product.product_id}`, {
        holding_days: Number(values.holding_days),
        attribution_days: Number(values.attribution_days),
      }),
      t("product.settings_saved"),
    );
  });
  return h("section", { class: "card" }, h("h2", {}, t("product.settings")), form, message);
}

const METRICS = [
  ["clicks", "stats.clicks", null],
  ["promotions", "stats.promotions", null],
  ["transactions", "stats.sales", null],
  ["revenue_minor", "stats.revenue", "money"],
  ["commission_minor", "stats.commission", "money"],
];

function conversion(block) {
  return block.conversion_rate_bps === null || block.conversion_rate_bps === undefined ? "–" : formatBps(block.conversion_rate_bps);
}

async function statsCard(product, days = 7) {
  const card = h("section", { class: "card", "data-testid": "stats" });
  const message = h("div");
  const choose = select("days", [["7", t("stats.days", { n: 7 })], ["30", t("stats.days", { n: 30 })], ["90", t("stats.days", { n: 90 })]], String(days));
  choose.addEventListener("change", async () => card.replaceWith(await statsCard(product, Number(choose.value))));
  card.append(h("div", { class: "row" }, h("h2", {}, t("stats.title")), choose), message);
  const stats = await attempt(message, () => api.get(`/merchant/products/${product.product_id}/stats`, { days }));
  if (!stats) return card;
  const format = (kind) => (kind === "money" ? (v) => money(v, stats.currency) : String);
  card.append(
    h(
      "div",
      { class: "kpis" },
      METRICS.map(([key, label, kind]) => h("div", { class: "kpi", "data-testid": `total-${key}` }, t(label), h("b", {}, format(kind)(stats.totals[key])))),
      h("div", { class: "kpi", "data-testid": "total-conversion" }, t("stats.conversion"), h("b", {}, conversion(stats.totals))),
    ),
    h(
      "div",
      { class: "charts" },
      METRICS.map(([key, label, kind]) =>
        h("figure", { class: "chart" }, h("figcaption", {}, t(label)), barChart(stats.per_day.map((d) => ({ label: d.day, value: d[key] })), { metric: key, format: format(kind) })),
      ),
    ),
    h("h2", {}, t("stats.top_promoters")),
    table(
      [
        { label: t("stats.promoter"), render: (p) => p.promoter_id },
        ...METRICS.map(([key, label, kind]) => ({ label: t(label), num: true, render: (p) => format(kind)(p[key]) })),
        { label: t("stats.conversion"), num: true, render: conversion },
      ],
      stats.top_promoters,
    ),
    h("h2", {}, t("stats.top_channels")),
    table(
      [
        { label: t("stats.channel"), render: (c) => c.channel },
        ...METRICS.map(([key, label, kind]) => ({ label: t(label), num: true, render: (c) => format(kind)(c[key]) })),
        { label: t("stats.conversion"), num: true, render: conversion },
      ],
      stats.top_channels,
    ),
  );
  return card;
}

// ------------------------------------------------------------------ inbox
export async function inboxPage(main) {
  const message = h("div");
  main.replaceChildren(h("h1", {}, t("inbox.title")), message);
  const page = await attempt(message, () => api.get("/merchant/notifications", { limit: 100 }));
  if (!page) return;
  if (!page.items.length) main.append(h("p", { class: "muted" }, t("common.empty")));
  main.append(h("ul", { class: "inbox", "data-testid": "inbox" }, page.items.map(inboxItem)));
}

function inboxItem(item) {
  const message = h("div");
  const li = h(
    "li",
    { class: item.read ? "" : "unread", dataset: { kind: item.kind } },
    h("b", {}, item.title || t(`kind.${item.kind}`, {}, item.kind)),
    h("span", { class: "muted" }, ` · ${when(item.created_at)}`),
    h("p", {}, item.text),
  );
  if (item.kind === "raise_reward_hint") li.append(hintAction(item.data, message));
  if (item.kind === "low_performance") {
    li.append(h("p", {}, item.data.tasks.map((task) => h("a", { href: `#/products/${task.product_id}`, class: "task-link" }, task.title, " "))));
  }
  if (!item.read) {
    li.append(h("button", { type: "button", class: "secondary", onclick: () => attempt(message, () => api.post(`/me/notifications/${item.notification_id}/read`), t("inbox.marked")) }, t("inbox.mark_read")));
  }
  li.append(message);
  return li;
}

// One click: the suggested reward becomes the promoter's override on the product.
function hintAction(data, message) {
  const suggested = data.suggested_reward;
  const value = suggested.type === "percent" ? formatBps(suggested.value) : money(suggested.value, data.currency);
  return h(
    "button",
    {
      type: "button",
      "data-testid": "apply-hint",
      onclick: (event) =>
        attempt(
          message,
          async () => {
            await api.put(`/merchant/products/${data.product_id}/promoter-rewards/${data.promoter_id}`, suggested);
            event.target.disabled = true;
          },
          t("inbox.applied", { name: data.promoter_name, value }),
        ),
    },
    t("inbox.apply", { value }),
  );
}

// ------------------------------------------------------------------ account, payouts, statements
export const BUCKETS = ["pending_minor", "available_minor", "in_payout_minor", "paid_minor"];

export function accountView(account) {
  const bucketsKnown = account.balances.some((b) => BUCKETS.some((k) => k in b));
  return h(
    "div",
    {},
    table(
      [
        { label: t("account.currency"), key: "currency" },
        { label: t("account.balance"), num: true, render: (b) => money(b.balance_minor, b.currency) },
        ...(bucketsKnown ? BUCKETS.map((k) => ({ label: t(`account.${k}`), num: true, render: (b) => money(b[k] ?? 0, b.currency) })) : []),
      ],
      account.balances,
      { testid: "balances" },
    ),
    h("h2", {}, t("account.entries")),
    table(
      [
        { label: t("account.when"), render: (e) => when(e.created_at) },
        { label: t("account.kind"), key: "kind" },
        { label: t("account.state"), render: (e) => e.state ?? "" },
        { label: t("account.amount"), num: true, render: (e) => money(e.amount_minor, e.currency) },
        { label: t("account.transaction"), key: "transaction_id" },
      ],
      account.entries,
    ),
  );
}

export async function accountPage(main) {
  const message = h("div");
  main.replaceChildren(h("h1", {}, t("account.title")), message);
  const account = await attempt(message, () => api.get("/merchant/account", { limit: 100 }));
  if (account) main.append(accountView(account));
}

export function payoutsTable(items) {
  return table(
    [
      { label: t("payouts.requested"), render: (p) => when(p.requested_at) },
      { label: t("payouts.amount"), num: true, render: (p) => money(p.amount_minor, p.currency) },
      { label: t("payouts.status"), render: (p) => status(p.status) },
      { label: t("payouts.method"), render: (p) => `${p.method?.type ?? ""} ${p.method?.account_masked ?? ""}` },
      { label: t("payouts.reason"), render: (p) => p.failure_reason ?? p.provider_reference ?? "" },
    ],
    items,
    { testid: "payouts" },
  );
}

export async function payoutsPage(main, role = "merchant") {
  const message = h("div");
  main.replaceChildren(h("h1", {}, t("payouts.title")), message);
  const methodMessage = h("div");
  const method = h(
    "form",
    { class: "grid" },
    field(t("payouts.method_type"), select("type", [["alipay", "Alipay"], ["stripe", "Stripe"]], "alipay")),
    field(t("payouts.account"), input("account", { placeholder: "name@example.com / acct_…" })),
    field(t("payouts.real_name"), input("real_name")),
    field(t("payouts.auto"), select("auto_payout", [["false", t("common.no")], ["true", t("common.yes")]], "false")),
    h("button", { type: "submit" }, t("payouts.save_method")),
  );
  method.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = formValues(method);
    const body = v.type === "alipay" ? { type: "alipay", account: v.account, real_name: v.real_name } : { type: "stripe", connected_account_id: v.account };
    body.auto_payout = v.auto_payout === "true";
    attempt(methodMessage, () => api.put(`/${role}/payout-method`, body), t("payouts.method_saved"));
  });
  const requestMessage = h("div");
  const request = h(
    "form",
    { class: "grid" },
    field(t("products.currency"), select("currency", CURRENCIES, "CNY")),
    field(t("payouts.amount_optional"), input("amount", { inputmode: "decimal" })),
    h("button", { type: "submit" }, t("payouts.request")),
  );
  request.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = formValues(request);
    attempt(
      requestMessage,
      () => {
        const body = { currency: v.currency };
        if (v.amount) body.amount_minor = parseMajor(v.amount, v.currency);
        return api.post(`/${role}/payouts`, body);
      },
      (r) => t("payouts.requested_ok", { id: r.payout_id }),
    );
  });
  main.append(
    h("section", { class: "card" }, h("h2", {}, t("payouts.method")), method, methodMessage),
    h("section", { class: "card" }, h("h2", {}, t("payouts.new")), request, requestMessage),
  );
  const list = await attempt(message, () => api.get(`/${role}/payouts`));
  if (list) main.append(payoutsTable(list.items));
}

// A month's statement as CSV, made from the account's entries (GET /merchant/account, newest first,
// paged until the month is behind): one row per entry, amounts in minor units and in the currency's format.
export async function statementRows(month) {
  const rows = [];
  let cursor;
  for (let pageNumber = 0; pageNumber < 200; pageNumber += 1) {
    const page = await api.get("/merchant/account", { limit: 100, cursor });
    for (const entry of page.entries) if (entry.created_at.startsWith(month)) rows.push(entry);
    const oldest = page.entries.at(-1);
    if (!page.next_cursor || (oldest && oldest.created_at.slice(0, 7) < month)) break;
    cursor = page.next_cursor;
  }
  return rows.reverse();
}

function csvCell(value) {
  const text = String(value ?? "");
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function statementCsv(rows) {
  const header = ["created_at", "entry_id", "transaction_id", "kind", "state", "currency", "amount_minor", "amount"];
  const lines = rows.map((e) => [e.created_at, e.entry_id, e.transaction_id, e.kind, e.state ?? "", e.currency, e.amount_minor, formatMinor(e.amount_minor, e.currency, "en")]);
  return [header, ...lines].map((line) => line.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export async function statementsPage(main) {
  const message = h("div");
  const month = input("month", { type: "month", value: new Date().toISOString().slice(0, 7), required: true });
  const download = h("button", { type: "submit", "data-testid": "download-statement" }, t("statements.download"));
  const form = h("form", { class: "row" }, field(t("statements.month"), month), download);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rows = await attempt(message, () => statementRows(month.value));
    if (!rows) return;
    const blob = new Blob(["\ufeff", statementCsv(rows)], { type: "text/csv;charset=utf-8" });
    const link = h("a", { href: URL.createObjectURL(blob), download: `statement-${month.value}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    message.append(h("p", { class: "muted" }, t("statements.rows", { n: rows.length })));
  });
  main.replaceChildren(h("h1", {}, t("statements.title")), h("p", { class: "muted" }, t("statements.help")), form, message);
}
