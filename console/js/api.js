// The public REST API, as the app calls it: ID token in Authorization, JSON in and out, and the one error body
// of tuishou/rest.py ({"error": {code, message, field?}}) turned into an ApiError that names the field.
import { session } from "./auth.js";

let apiBase = "";

export function setApiBase(base) {
  apiBase = (base || "").replace(/\/$/, "");
}

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

function urlOf(path, query) {
  let url = apiBase + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(name, value);
    }
    if ([...params].length) url += `?${params}`;
  }
  return url;
}

function authorized(headers) {
  const token = session()?.id_token;
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

async function errorOf(response) {
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  const error = payload?.error || {};
  return new ApiError(response.status, error.code || "http_error", error.message || `HTTP ${response.status}`, error.field);
}

export async function call(method, path, { body, query } = {}) {
  const headers = authorized({ Accept: "application/json" });
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(urlOf(path, query), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

// The file name of `Content-Disposition: attachment; filename="..."`, or null.
export function attachmentName(disposition) {
  const match = /filename="([^"]+)"|filename=([^;\s]+)/.exec(disposition || "");
  return match ? match[1] || match[2] : null;
}

// A GET answering a file (a CSV statement): its bytes as a Blob and the file name the server gives.
export async function download(path, query) {
  const response = await fetch(urlOf(path, query), { headers: authorized({ Accept: "text/csv, application/json" }) });
  if (!response.ok) throw await errorOf(response);
  return { blob: await response.blob(), filename: attachmentName(response.headers.get("Content-Disposition")) };
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body });
export const put = (path, body) => call("PUT", path, { body });
export const patch = (path, body) => call("PATCH", path, { body });
