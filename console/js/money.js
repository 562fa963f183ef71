// Money from integer minor units, never through floating point: digits are split and grouped as text.
// The exponents mirror tuishou.money.CURRENCY_EXPONENT (a test checks they agree).
export const CURRENCY_EXPONENT = {
  CNY: 2, USD: 2, EUR: 2, GBP: 2, HKD: 2, TWD: 2, SGD: 2, AUD: 2, CAD: 2, CHF: 2, MYR: 2, THB: 2, INR: 2,
  MOP: 2, NZD: 2, SEK: 2, NOK: 2, DKK: 2, PHP: 2, IDR: 2, JPY: 0, KRW: 0, VND: 0,
};

// Symbols as readers of each language expect them; other currencies show their ISO code.
const SYMBOLS = {
  "zh-CN": { CNY: "¥", USD: "US$", EUR: "€", GBP: "£", HKD: "HK$", JPY: "JP¥", TWD: "NT$", KRW: "₩" },
  en: { CNY: "CN¥", USD: "$", EUR: "€", GBP: "£", HKD: "HK$", JPY: "¥", TWD: "NT$", KRW: "₩" },
};

export function exponent(currency) {
  const value = CURRENCY_EXPONENT[currency];
  if (value === undefined) throw new RangeError(`unknown currency ${currency}`);
  return value;
}

function toBigInt(amountMinor) {
  if (typeof amountMinor === "bigint") return amountMinor;
  if (typeof amountMinor === "number" && Number.isSafeInteger(amountMinor)) return BigInt(amountMinor);
  if (typeof amountMinor === "string" && /^-?\d+$/.test(amountMinor)) return BigInt(amountMinor);
  throw new TypeError(`not an integer amount of minor units: ${amountMinor}`);
}

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// 123456 CNY -> "¥1,234.56" (zh-CN) / "CN¥1,234.56" (en); -5 USD -> "-$0.05"; 1200 JPY -> "¥1,200" (en).
export function formatMinor(amountMinor, currency, language = "en") {
  const minor = toBigInt(amountMinor);
  const places = exponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(places + 1, "0");
  const whole = groupThousands(digits.slice(0, digits.length - places));
  const number = places ? `${whole}.${digits.slice(digits.length - places)}` : whole;
  const symbol = (SYMBOLS[language] || SYMBOLS.en)[currency];
  const text = symbol ? `${symbol}${number}` : `${number} ${currency}`;
  return negative ? `-${text}` : text;
}

// "12.5" CNY -> 1250; "1,000" JPY -> 1000. More decimals than the currency has, or anything else: RangeError.
export function parseMajor(text, currency) {
  const places = exponent(currency);
  const cleaned = String(text).trim().replaceAll(",", "");
  const match = /^(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!match || (match[2] || "").length > places) {
    throw new RangeError(places ? `at most ${places} decimals` : "a whole number");
  }
  const fraction = (match[2] || "").padEnd(places, "0");
  return Number(BigInt(match[1] + fraction));
}

// Basis points as a percentage: 1000 -> "10%", 1250 -> "12.5%", 5 -> "0.05%".
export function formatBps(bps) {
  const value = toBigInt(bps);
  const whole = value / 100n;
  const rest = (value % 100n).toString().padStart(2, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}%` : `${whole}%`;
}

// "12.5" -> 1250 basis points (percent text with at most two decimals).
export function parsePercent(text) {
  const match = /^(\d+)(?:\.(\d{0,2}))?$/.exec(String(text).trim().replace(/%$/, ""));
  if (!match) throw new RangeError("a percentage with at most 2 decimals");
  return Number(BigInt(match[1] + (match[2] || "").padEnd(2, "0")));
}

// Minor units as the plain decimal an input field shows: 1250 CNY -> "12.50", 1200 JPY -> "1200".
export function plainMajor(amountMinor, currency) {
  const places = exponent(currency);
  const minor = toBigInt(amountMinor);
  const digits = (minor < 0n ? -minor : minor).toString().padStart(places + 1, "0");
  const number = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return minor < 0n ? `-${number}` : number;
}
