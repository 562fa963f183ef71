// The operators' pages: promoters and tags, channel-task templates, reviews, fault windows and scans,
// compensations, payouts, unattributed payments and the ledger audit.
import * as api from "./api.js";
import { attempt, field, formValues, h, input, select, status, table, when } from "./dom.js";
import { language, t } from "./i18n.js";
import { accountView, payoutsTable } from "./merchant.js";
import { CURRENCY_EXPONENT, formatMinor, parseMajor } from "./money.js";

const money = (minor, currency) => formatMinor(minor, currency, language());
const CHANNELS = ["wechat", "weibo", "douyin", "xiaohongshu", "qq", "sms", "other"].map((c) => [c, c]);
const CURRENCIES = Object.keys(CURRENCY_EXPONENT).map((c) => [c, c]);

function form(fields, label, onsubmit, attributes = {}) {
  const element = h("form", { class: "grid", ...attributes }, fields, h("button", { type: "submit" }, label));
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    onsubmit(formValues(element));
  });
  return element;
}

export async function promotersPage(main) {
  const tagsMessage = h("div");
  const tags = form(
    [field(t("admin.promoter_id"), input("promoter_id", { required: true })), field(t("admin.tags"), input("tags", { required: true, placeholder: "standard, beauty" }))],
    t("admin.save_tags"),
    (v) =>
      attempt(
        tagsMessage,
        () => api.put(`/admin/promoters/${encodeURIComponent(v.promoter_id.trim())}/tags`, { tags: v.tags.split(/[,\s]+/).filter(Boolean) }),
        (profile) => t("admin.tags_saved", { name: profile.display_name, tags: profile.tags.join(", ") }),
      ),
  );
  const accountPlace = h("div");
  const account = form([field(t("admin.user_id"), input("user_id", { required: true, placeholder: "system:platform_fees" }))], t("admin.show_account"), async (v) => {
    const found = await attempt(accountPlace, () => api.get(`/admin/accounts/${encodeURIComponent(v.user_id.trim())}`, { limit: 100 }));
    if (found) accountPlace.append(accountView(found));
  });
  const blockMessage = h("div");
  const block = form([field(t("admin.user_id"), input("user_id", { required: true }))], t("admin.block"), (v) =>
    attempt(blockMessage, () => api.put(`/admin/users/${encodeURIComponent(v.user_id.trim())}/block`), t("admin.blocked")),
  );
  main.replaceChildren(
    h("h1", {}, t("admin.promoters")),
    h("section", { class: "card" }, h("h2", {}, t("admin.tags")), tags, tagsMessage),
    h("section", { class: "card" }, h("h2", {}, t("admin.account")), account, accountPlace),
    h("section", { class: "card" }, h("h2", {}, t("admin.block")), block, blockMessage),
  );
}

export async function templatesPage(main) {
  const message = h("div");
  const list = h("div");
  const load = async () => {
    const page = await attempt(list, () => api.get("/admin/channel-task-templates"));
    if (!page) return;
    list.replaceChildren(
      table(
        [
          { label: t("admin.channel"), key: "channel" },
          { label: t("admin.duration_hours"), num: true, key: "duration_hours" },
          { label: t("admin.targets"), render: (x) => `${x.target_transactions ?? "–"} / ${x.target_promotions ?? "–"}` },
          { label: t("admin.bonus"), num: true, render: (x) => money(x.bonus_minor, x.currency) },
          { label: t("admin.created"), render: (x) => when(x.created_at) },
        ],
        page.items,
      ),
    );
  };
  const optionalInt = (text) => (text === "" ? null : Number(text));
  const create = form(
    [
      field(t("admin.channel"), select("channel", CHANNELS, "wechat")),
      field(t("admin.duration_hours"), input("duration_hours", { type: "number", required: true, value: 72 })),
      field(t("admin.target_transactions"), input("target_transactions", { type: "number" })),
      field(t("admin.target_promotions"), input("target_promotions", { type: "number" })),
      field(t("admin.bonus"), input("bonus", { required: true, inputmode: "decimal" })),
      field(t("products.currency"), select("currency", CURRENCIES, "CNY")),
      field(t("admin.reminder_threshold_hours"), input("reminder_threshold_hours", { type: "number", value: 24 })),
      field(t("admin.coupon_threshold"), input("coupon_threshold", { type: "number" })),
      field(t("admin.coupon_value"), input("coupon_value", { inputmode: "decimal" })),
    ],
    t("admin.create_template"),
    async (v) => {
      const made = await attempt(
        message,
        () =>
          api.post("/admin/channel-task-templates", {
            channel: v.channel,
            duration_hours: Number(v.duration_hours),
            target_transactions: optionalInt(v.target_transactions),
            target_promotions: optionalInt(v.target_promotions),
            bonus_minor: parseMajor(v.bonus, v.currency),
            currency: v.currency,
            reminder_threshold_hours: optionalInt(v.reminder_threshold_hours),
            coupon_threshold: optionalInt(v.coupon_threshold),
            coupon_value_minor: v.coupon_value ? parseMajor(v.coupon_value, v.currency) : null,
          }),
        t("admin.template_created"),
      );
      if (made) await load();
    },
  );
  main.replaceChildren(h("h1", {}, t("admin.templates")), h("section", { class: "card" }, create, message), list);
  await load();
}

export async function reviewsPage(main, reviewStatus = "open") {
  const message = h("div");
  const choose = select("status", ["open", "approved", "declined"].map((s) => [s, t(`status.${s}`)]), reviewStatus);
  choose.addEventListener("change", () => reviewsPage(main, choose.value));
  main.replaceChildren(h("h1", {}, t("admin.reviews")), h("div", { class: "row" }, choose), message);
  const page = await attempt(message, () => api.get("/admin/reviews", { status: reviewStatus }));
  if (!page) return;
  const decide = (review) => {
    const place = h("div");
    const reason = input("reason", { placeholder: t("admin.decline_reason"), size: 18 });
    const approve = h("button", { type: "button", "data-testid": "approve", onclick: async () => {
      if (await attempt(place, () => api.post(`/admin/reviews/${review.review_id}/approve`), t("admin.approved"))) reviewsPage(main, reviewStatus);
    } }, t("admin.approve"));
    const decline = h("button", { type: "button", class: "secondary", "data-testid": "decline", onclick: async () => {
      if (await attempt(place, () => api.post(`/admin/reviews/${review.review_id}/decline`, { reason: reason.value }), t("admin.declined"))) reviewsPage(main, reviewStatus);
    } }, t("admin.decline"));
    return review.status === "open" ? h("div", {}, h("div", { class: "row" }, approve, reason, decline), place) : review.decision_reason ?? "";
  };
  main.append(
    table(
      [
        { label: t("admin.created"), render: (r) => when(r.created_at) },
        { label: t("admin.reason"), key: "reason" },
        { label: t("admin.promoter_id"), key: "promoter_id" },
        { label: t("admin.product"), key: "product_id" },
        { label: t("stats.revenue"), num: true, render: (r) => money(r.amount_minor, r.currency) },
        { label: t("stats.commission"), num: true, render: (r) => money(r.commission_minor, r.currency) },
        { label: t("admin.evidence"), render: (r) => h("code", {}, JSON.stringify(r.evidence ?? {})) },
        { label: t("payouts.status"), render: (r) => status(r.status) },
        { label: "", render: decide },
      ],
      page.items,
      { testid: "reviews" },
    ),
  );
}

function scanView(scan) {
  return table(
    ["status", "kind", "window_start", "window_end", "examined", "already_granted", "compensated", "flagged", "errors", "nothing_owed", "failure_reason", "updated_at"].map((key) => ({ label: key, key })),
    [scan],
    { testid: "scan" },
  );
}

export async function faultsPage(main) {
  const message = h("div");
  const scanPlace = h("div");
  // A running scan is read again every few seconds while its page is shown.
  const showScan = async (scanId) => {
    const scan = await attempt(scanPlace, () => api.get(`/admin/scans/${encodeURIComponent(scanId)}`));
    if (!scan) return;
    scanPlace.append(scanView(scan));
    if (scan.status === "running") setTimeout(() => scanPlace.isConnected && showScan(scanId), 3000);
  };
  const window = form(
    [
      field(t("admin.start"), input("start", { required: true, placeholder: "2030-01-01T00:00:00+08:00" })),
      field(t("admin.end"), input("end", { required: true, placeholder: "2030-01-01T02:00:00+08:00" })),
      field(t("admin.reason"), input("reason", { required: true })),
    ],
    t("admin.open_window"),
    async (v) => {
      const started = await attempt(message, () => api.post("/admin/fault-windows", v), (r) => t("admin.scan_started", { id: r.scan_id }));
      if (started) {
        scanId.value = started.scan_id;
        await showScan(started.scan_id);
      }
    },
  );
  const scanId = input("scan_id", { required: true });
  const lookup = form([field(t("admin.scan_id"), scanId)], t("admin.refresh_scan"), (v) => showScan(v.scan_id));
  main.replaceChildren(
    h("h1", {}, t("admin.faults")),
    h("section", { class: "card" }, h("h2", {}, t("admin.new_window")), window, message),
    h("section", { class: "card" }, h("h2", {}, t("admin.scan_progress")), lookup, scanPlace),
  );
}

async function pagedList(main, title, path, columns, query = {}, controls = []) {
  const message = h("div");
  const list = h("div");
  main.replaceChildren(h("h1", {}, title), h("div", { class: "row" }, controls), message, list);
  const items = [];
  const more = h("button", { type: "button", class: "secondary" }, t("common.more"));
  const load = async (cursor) => {
    const page = await attempt(message, () => api.get(path, { limit: 100, ...query, cursor }));
    if (!page) return;
    items.push(...page.items);
    list.replaceChildren(table(columns, items));
    if (page.next_cursor) list.append(more), (more.onclick = () => load(page.next_cursor));
  };
  await load();
}

export function compensationsPage(main) {
  const since = input("since", { value: `${new Date(Date.now() - 7 * 864e5).toISOString().slice(0, 10)}T00:00:00Z`, size: 24 });
  const reload = h("button", { type: "button", onclick: () => show() }, t("common.show"));
  const show = () =>
    pagedList(
      main,
      t("admin.compensations"),
      "/admin/compensations",
      [
        { label: t("admin.created"), render: (c) => when(c.created_at) },
        { label: t("admin.user_id"), key: "user_id" },
        { label: t("account.kind"), key: "type" },
        { label: t("account.amount"), num: true, render: (c) => money(c.amount_minor, c.currency) },
        { label: t("payouts.status"), render: (c) => status(c.status) },
        { label: t("admin.reason"), key: "reason" },
        { label: t("admin.scan_id"), key: "scan_id" },
      ],
      { since: since.value },
      [field(t("admin.since"), since), reload],
    );
  return show();
}

export function adminPayoutsPage(main, payoutStatus = "requested") {
  const choose = select("status", ["requested", "sending", "paid", "failed"].map((s) => [s, t(`status.${s}`)]), payoutStatus);
  choose.addEventListener("change", () => adminPayoutsPage(main, choose.value));
  const message = h("div");
  main.replaceChildren(h("h1", {}, t("payouts.title")), h("div", { class: "row" }, choose), message);
  return attempt(message, () => api.get("/admin/payouts", { status: payoutStatus })).then((page) => {
    if (page) main.append(payoutsTable(page.items));
  });
}

export async function paymentsPage(main) {
  await pagedList(main, t("admin.unattributed"), "/admin/payments/unattributed", [
    { label: t("admin.received"), render: (p) => when(p.received_at) },
    { label: t("admin.provider"), key: "provider" },
    { label: t("admin.payment"), key: "payment_id" },
    { label: t("admin.reason"), key: "reason" },
    { label: t("account.amount"), num: true, render: (p) => money(p.amount_minor, p.currency) },
    { label: t("admin.refunded"), num: true, render: (p) => money(p.refunded_minor, p.currency) },
    { label: t("admin.click"), render: (p) => p.click_id ?? "" },
  ]);
}

export async function auditPage(main) {
  const place = h("div");
  const run = h("button", { type: "button", onclick: async () => {
    const audit = await attempt(place, () => api.get("/admin/ledger/audit"));
    if (!audit) return;
    place.append(
      h("p", { "data-testid": "audit-result" }, audit.ok ? t("admin.audit_ok") : t("admin.audit_bad", { n: audit.violation_count })),
      h("p", { class: "muted" }, `${t("admin.audit_counts")}: ${audit.transactions} / ${audit.entries} / ${audit.accounts} / ${audit.payments}`),
      table([{ label: "rule", key: "rule" }, { label: "subject", key: "subject" }, { label: "detail", key: "detail" }], audit.violations),
    );
  } }, t("admin.run_audit"));
  main.replaceChildren(h("h1", {}, t("admin.audit")), h("p", { class: "muted" }, t("admin.audit_help")), run, place);
}
