// Who is signed in decides what shows: nothing while asking, the login form,
// or the role's pages. A call answering unauthenticated ends the session here.
import { useEffect, useState } from "preact/hooks";
import type { Account } from "./gen/ates/auth/v1/auth_service_pb";
import { kSessionEndedEvent } from "./api/clients";
import { currentAccount, logOut } from "./api/session";
import { LoginPage } from "./pages/LoginPage";
import { ErrorText } from "./components/ErrorText";
import { Shell } from "./Shell";

type SessionState = { kind: "checking" } | { kind: "anonymous" } | { kind: "signed-in"; account: Account };

export function App() {
  const [session, setSession] = useState<SessionState>({ kind: "checking" });
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    currentAccount().then(
      (account) => setSession(account ? { kind: "signed-in", account } : { kind: "anonymous" }),
      (err) => (setError(err), setSession({ kind: "anonymous" })),
    );
    const ended = () => setSession({ kind: "anonymous" });
    window.addEventListener(kSessionEndedEvent, ended);
    return () => window.removeEventListener(kSessionEndedEvent, ended);
  }, []);
  async function onLogOut() {
    try {
      await logOut();
      setError(null);
    } catch (err) {
      setError(err);
    }
    setSession({ kind: "anonymous" });
    window.location.hash = "";
  }
  if (session.kind === "checking") return <p class="loading">Loading…</p>;
  if (session.kind === "anonymous") {
    return (
      <>
        <ErrorText error={error} />
        <LoginPage onLoggedIn={(account) => setSession({ kind: "signed-in", account })} />
      </>
    );
  }
  return <Shell account={session.account} onLogOut={onLogOut} />;
}
