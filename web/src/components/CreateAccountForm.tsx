// Admin: a new account; the server's field violations appear beside the fields.
import { useState } from "preact/hooks";
import { authClient } from "../api/clients";
import { fieldErrorsOf, type FieldErrors } from "../api/errors";
import { Role } from "../gen/ates/common/v1/role_pb";
import { Field } from "./Field";
import { ErrorText } from "./ErrorText";
import { RoleSelect } from "./RoleSelect";

const kEmpty = { login: "", fullName: "", email: "", password: "", role: Role.WORKER };
type TextKey = "login" | "fullName" | "email" | "password";

export function CreateAccountForm({ onCreated }: { onCreated: () => void }) {
  const [form, setForm] = useState(kEmpty);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState("");
  const text = (key: TextKey, label: string, field: string, type: "text" | "email" | "password" = "text") => (
    <Field label={label} error={fieldErrors[field]}>
      {(id, desc) => (
        <input id={id} name={field} type={type as "text"} value={form[key]} aria-describedby={desc} aria-invalid={!!desc}
          autocomplete={type === "password" ? "new-password" : "off"}
          onInput={(e) => setForm({ ...form, [key]: e.currentTarget.value })} />
      )}
    </Field>
  );
  async function submit(e: Event) {
    e.preventDefault();
    try {
      const r = await authClient.createAccount(form);
      setForm(kEmpty);
      setFieldErrors({});
      setError(null);
      setCreated(`Created ${r.account?.login ?? ""}.`);
      onCreated();
    } catch (err) {
      const fields = fieldErrorsOf(err);
      setFieldErrors(fields);
      setError(Object.keys(fields).length ? null : err);
      setCreated("");
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-account-title" noValidate>
      <h2 id="create-account-title">New account</h2>
      <ErrorText error={error} />
      {text("login", "Login", "login")}
      {text("fullName", "Full name", "full_name")}
      {text("email", "E-mail", "email", "email")}
      <Field label="Role" error={fieldErrors.role}>
        {(id, desc) => <RoleSelect id={id} value={form.role} describedBy={desc} onChange={(role) => setForm({ ...form, role })} />}
      </Field>
      {text("password", "Password", "password", "password")}
      <button type="submit" class="primary">Create account</button>
      <p class="status" role="status">{created}</p>
    </form>
  );
}
