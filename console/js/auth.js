// Sign-in. Locally (config.auth = "local"): a user of the emulated pool made through POST /_local/users.
// Deployed (config.auth = "cognito"): the Cognito hosted UI, authorization code with PKCE. Either way the ID
// token is kept in sessionStorage (gone with the tab) and sent as the app sends it.
const SESSION_KEY = "tuishou.session";
const LOCAL_USERS_KEY = "tuishou.local-users";
const PKCE_KEY = "tuishou.pkce";

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch {
    return null;
  }
}

function keep(value) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
}

export function localUsers() {
  return JSON.parse(sessionStorage.getItem(LOCAL_USERS_KEY) || "[]");
}

// The local users made in this tab, to switch between them without making new ones.
export function useLocalUser(username) {
  const user = localUsers().find((u) => u.username === username);
  if (user) keep({ id_token: user.id_token, username: user.username, role: user.role });
  return user;
}

export async function signInLocal(apiBase, username, role) {
  const response = await fetch(`${apiBase}/_local/users`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, role }),
  });
  const payload = await response.json();
  if (!response.ok) return { error: payload.error };
  const users = localUsers().filter((u) => u.username !== payload.username);
  users.push({ username: payload.username, role: payload.role, id_token: payload.id_token, sub: payload.sub });
  sessionStorage.setItem(LOCAL_USERS_KEY, JSON.stringify(users));
  keep({ id_token: payload.id_token, username: payload.username, role: payload.role });
  return { user: payload };
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(length) {
  return base64url(crypto.getRandomValues(new Uint8Array(length))).slice(0, length);
}

function redirectUri(config) {
  return config.redirect_uri || `${location.origin}${location.pathname}`;
}

export async function signInCognito(config) {
  const verifier = randomText(64);
  const state = randomText(24);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(config),
    scope: "openid email profile",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`https://${config.cognito_domain}/oauth2/authorize?${query}`);
}

// Back from the hosted UI with ?code=&state=: the code and the PKCE verifier buy the tokens.
export async function completeCognito(config) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return false;
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", location.pathname + location.hash);
  if (!pending || pending.state !== params.get("state")) return false;
  const response = await fetch(`https://${config.cognito_domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.client_id,
      code,
      redirect_uri: redirectUri(config),
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) return false;
  const tokens = await response.json();
  const claims = JSON.parse(atob(tokens.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  keep({ id_token: tokens.id_token, username: claims.email || claims.sub, role: claims["custom:role"] || null });
  return true;
}

export function signOut(config) {
  sessionStorage.removeItem(SESSION_KEY);
  if (config?.auth === "cognito") {
    const query = new URLSearchParams({ client_id: config.client_id, logout_uri: redirectUri(config) });
    location.assign(`https://${config.cognito_domain}/logout?${query}`);
  }
}
