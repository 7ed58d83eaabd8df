// The browser session: the gateway turns a successful Login into an HttpOnly
// cookie (the reply that reaches the script carries no token), answers
// GetAccount with an empty id for the cookie's account, and ends the session
// on POST /session/logout (a state-changing call, so it carries the Connect
// protocol header that the gateway's CSRF guard asks for).
import { Code } from "@connectrpc/connect";
import type { Account } from "../gen/ates/auth/v1/auth_service_pb";
import { authClient } from "./clients";
import { codeOf } from "./errors";

export async function currentAccount(): Promise<Account | null> {
  try {
    const resp = await authClient.getAccount({ accountId: "" });
    return resp.account ?? null;
  } catch (err) {
    if (codeOf(err) === Code.Unauthenticated) return null;
    throw err;
  }
}

export async function logIn(login: string, password: string): Promise<Account> {
  const resp = await authClient.login({ login, password });
  if (!resp.account) throw new Error("the server's login reply has no account");
  return resp.account;
}

export async function logOut(): Promise<void> {
  const resp = await fetch("/session/logout", {
    method: "POST",
    headers: { "Connect-Protocol-Version": "1" },
    credentials: "same-origin",
  });
  if (!resp.ok) throw new Error(`logout failed: HTTP ${resp.status}`);
}
