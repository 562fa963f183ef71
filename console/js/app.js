// The console's shell: configuration, sign-in, the pages of the signed-in role (hash routes), language.
import * as api from "./api.js";
import * as admin from "./admin.js";
import { completeCognito, localUsers, session, signInCognito, signInLocal, signOut, useLocalUser } from "./auth.js";
import { attempt, errorBox, field, h, input, select } from "./dom.js";
import { language, loadLanguage, t } from "./i18n.js";
import * as merchant from "./merchant.js";

const PAGES = {
  merchant: [
    ["products", merchant.productsPage],
    ["inbox", merchant.inboxPage],
    ["account", merchant.accountPage],
    ["payouts", (main) => merchant.payoutsPage(main, "merchant")],
    ["statements", merchant.statementsPage],
  ],
  admin: [
    ["admin/promoters", admin.promotersPage],
    ["admin/templates", admin.templatesPage],
    ["admin/reviews", (main) => admin.reviewsPage(main)],
    ["admin/faults", admin.faultsPage],
    ["admin/compensations", admin.compensationsPage],
    ["admin/payouts", (main) => admin.adminPayoutsPage(main)],
    ["admin/payments", admin.paymentsPage],
    ["admin/audit", admin.auditPage],
  ],
};

let config = { auth: "local", api_base: "" };
let me = null;

const main = () => document.getElementById("main");

function signInPage() {
  const place = h("div");
  const card = h("section", { class: "card signin", "data-testid": "sign-in" }, h("h1", {}, t("signin.title")));
  if (config.auth === "cognito") {
    card.append(h("button", { type: "button", onclick: () => signInCognito(config) }, t("signin.hosted")));
  } else {
    const form = h(
      "form",
      { class: "grid" },
      field(t("signin.username"), input("username", { required: true, autocomplete: "off" })),
      field(t("signin.role"), select("role", [["merchant", t("role.merchant")], ["admin", t("role.admin")]], "merchant")),
      h("button", { type: "submit" }, t("signin.local")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      const result = await signInLocal(config.api_base, values.username.trim(), values.role);
      if (result.error) place.replaceChildren(errorBox(result.error));
      else start();
    });
    card.append(h("p", { class: "muted" }, t("signin.local_help")), form);
    const known = localUsers();
    if (known.length) {
      card.append(
        h("h2", {}, t("signin.known")),
        h("div", { class: "row" }, known.map((u) => h("button", { type: "button", class: "secondary", onclick: () => useLocalUser(u.username) && start() }, `${u.username} (${t(`role.${u.role}`)})`))),
      );
    }
  }
  card.append(place);
  main().replaceChildren(card);
}

function renderNav() {
  const nav = document.getElementById("nav");
  const current = location.hash.replace(/^#\//, "");
  nav.replaceChildren(
    ...(PAGES[me?.role] || []).map(([route]) =>
      h("a", { href: `#/${route}`, class: current.startsWith(route) ? "active" : null }, t(`nav.${route.replace("admin/", "")}`)),
    ),
  );
  document.getElementById("who").textContent = me ? `${session()?.username || me.username} · ${t(`role.${me.role}`, {}, me.role || "")}` : "";
  const out = document.getElementById("sign-out");
  out.hidden = !me;
  out.textContent = t("signin.out");
}

async function route() {
  renderNav();
  const pages = PAGES[me.role];
  if (!pages) {
    main().replaceChildren(errorBox({ message: t("signin.no_console", { role: me.role || "–" }) }));
    return;
  }
  const path = location.hash.replace(/^#\//, "");
  const product = /^products\/([^/]+)$/.exec(path);
  if (me.role === "merchant" && product) return merchant.productPage(main(), decodeURIComponent(product[1]));
  const page = pages.find(([name]) => name === path);
  if (!page) {
    location.replace(`#/${pages[0][0]}`);
    return;
  }
  main().replaceChildren(h("p", { class: "loading" }, "…"));
  await page[1](main());
}

async function start() {
  if (!session()) {
    me = null;
    renderNav();
    return signInPage();
  }
  const place = h("div");
  main().replaceChildren(place);
  me = await attempt(place, () => api.get("/me"));
  if (!me) {
    if (place.querySelector("[data-code=unauthorized]")) {
      signOut();
      return start();
    }
    return;
  }
  await route();
}

async function boot() {
  try {
    config = { ...config, ...(await (await fetch("./config.json", { cache: "no-store" })).json()) };
  } catch {
    // no config.json: a local stack on the same origin
  }
  api.setApiBase(config.api_base);
  const chooser = document.getElementById("language");
  await loadLanguage();
  chooser.value = language();
  chooser.addEventListener("change", async () => {
    await loadLanguage(chooser.value);
    await (me ? route() : start());
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    signOut(config);
    start();
  });
  window.addEventListener("hashchange", () => me && route());
  if (config.auth === "cognito") await completeCognito(config);
  await start();
}

boot();
