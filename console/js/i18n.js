// zh-CN and English: the dictionaries are console/i18n/*.json (a test checks both have every key the pages
// use). The language is the one chosen before (localStorage), else the browser's first preference.
export const LANGUAGES = ["zh-CN", "en"];
const CHOSEN_KEY = "tuishou.language";
let current = "en";
let words = {};

export function browserLanguage(preferences = navigator.languages || [navigator.language]) {
  for (const preference of preferences) {
    if (/^zh\b/i.test(preference)) return "zh-CN";
    if (/^en\b/i.test(preference)) return "en";
  }
  return "en";
}

export function language() {
  return current;
}

export async function loadLanguage(chosen) {
  current = chosen || localStorage.getItem(CHOSEN_KEY) || browserLanguage();
  if (!LANGUAGES.includes(current)) current = "en";
  if (chosen) localStorage.setItem(CHOSEN_KEY, chosen);
  words = await (await fetch(`./i18n/${current}.json`)).json();
  document.documentElement.lang = current;
  document.title = words["app.title"] || document.title;
}

// t("stats.days", {n: 7}) -> "7 days"; an unknown key shows `fallback`, else the key itself.
export function t(key, vars = {}, fallback) {
  const text = words[key] ?? fallback ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? `{${name}}`));
}
