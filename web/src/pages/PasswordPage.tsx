import { useState } from "preact/hooks";
import { authClient } from "../api/clients";
import { fieldErrorsOf, type FieldErrors } from "../api/errors";
import { Field } from "../components/Field";
import { ErrorText } from "../components/ErrorText";

/** Everyone: change one's own password (the gateway renews the session cookie). */
export function PasswordPage() {
  const [oldPassword, setOld] = useState("");
  const [newPassword, setNew] = useState("");
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  async function submit(e: Event) {
    e.preventDefault();
    try {
      await authClient.changePassword({ oldPassword, newPassword });
      setOld("");
      setNew("");
      setFieldErrors({});
      setError(null);
      setDone("Password changed.");
    } catch (err) {
      const fields = fieldErrorsOf(err);
      setFieldErrors(fields);
      setError(Object.keys(fields).length ? null : err);
      setDone("");
    }
  }
  return (
    <form class="card" onSubmit={submit} noValidate>
      <ErrorText error={error} />
      <Field label="Current password" error={fieldErrors.old_password}>
        {(id, desc) => <input id={id} type="password" autocomplete="current-password" value={oldPassword} aria-describedby={desc} onInput={(e) => setOld(e.currentTarget.value)} />}
      </Field>
      <Field label="New password" error={fieldErrors.new_password}>
        {(id, desc) => <input id={id} type="password" autocomplete="new-password" value={newPassword} aria-describedby={desc} onInput={(e) => setNew(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="primary">Change password</button>
      <p class="status" role="status">{done}</p>
    </form>
  );
}
