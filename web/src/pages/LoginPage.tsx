import { useState } from "preact/hooks";
import { logIn } from "../api/session";
import type { Account } from "../gen/ates/auth/v1/auth_service_pb";
import { fieldErrorsOf, type FieldErrors } from "../api/errors";
import { Field } from "../components/Field";
import { ErrorText } from "../components/ErrorText";

export function LoginPage({ onLoggedIn }: { onLoggedIn: (a: Account) => void }) {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  async function submit(e: Event) {
    e.preventDefault();
    try {
      onLoggedIn(await logIn(login, password));
    } catch (err) {
      const fields = fieldErrorsOf(err);
      setFieldErrors(fields);
      setError(Object.keys(fields).length ? null : err);
    }
  }
  return (
    <main class="login">
      <h1>aTES</h1>
      <form class="card" onSubmit={submit} aria-label="Log in" noValidate>
        <ErrorText error={error} />
        <Field label="Login" error={fieldErrors.login}>
          {(id, desc) => <input id={id} name="login" autocomplete="username" value={login} aria-describedby={desc} onInput={(e) => setLogin(e.currentTarget.value)} />}
        </Field>
        <Field label="Password" error={fieldErrors.password}>
          {(id, desc) => <input id={id} name="password" type="password" autocomplete="current-password" value={password} aria-describedby={desc} onInput={(e) => setPassword(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="primary">Log in</button>
      </form>
    </main>
  );
}
