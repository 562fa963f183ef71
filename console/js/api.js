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

export async function call(method, path, { body, query } = {}) {
  let url = apiBase + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(name, value);
    }
    if ([...params].length) url += `?${params}`;
  }
  const headers = { Accept: "application/json" };
  const token = session()?.id_token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload?.error || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || `HTTP ${response.status}`, error.field);
  }
  return payload;
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body });
export const put = (path, body) => call("PUT", path, { body });
export const patch = (path, body) => call("PATCH", path, { body });
