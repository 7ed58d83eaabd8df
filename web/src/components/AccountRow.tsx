// One account in the admin's list: change role, deactivate, reset password.
import { useState } from "preact/hooks";
import { authClient } from "../api/clients";
import { fieldErrorsOf, messageOf } from "../api/errors";
import type { Account } from "../gen/ates/auth/v1/auth_service_pb";
import { RoleSelect } from "./RoleSelect";

export function AccountRow({ account, onChanged }: { account: Account; onChanged: () => void }) {
  const [role, setRole] = useState(account.role);
  const [password, setPassword] = useState("");
  const [message, setMessage] = useState("");
  const who = `${account.fullName} (${account.login})`;
  async function act(what: string, call: () => Promise<unknown>) {
    try {
      await call();
      setMessage(`${what}: done.`);
      onChanged();
    } catch (err) {
      const fields = Object.values(fieldErrorsOf(err));
      setMessage(`${what}: ${fields.length ? fields.join("; ") : messageOf(err)}`);
    }
  }
  return (
    <tr data-login={account.login}>
      <td>{account.fullName}</td>
      <td>{account.login}</td>
      <td>{account.email}</td>
      <td>
        <label class="visually-hidden" for={`role-${account.id}`}>Role of {who}</label>
        <RoleSelect id={`role-${account.id}`} value={role} onChange={setRole} />
        <button type="button" disabled={role === account.role}
          onClick={() => act("Role", () => authClient.updateAccount({ accountId: account.id, role }))}>
          Save role
        </button>
      </td>
      <td>{account.active ? "active" : "deactivated"}</td>
      <td>
        {account.active && (
          <button type="button" onClick={() => act("Deactivate", () => authClient.updateAccount({ accountId: account.id, active: false }))}>
            Deactivate
          </button>
        )}
        <label class="visually-hidden" for={`pw-${account.id}`}>New password for {who}</label>
        <input id={`pw-${account.id}`} type="password" autocomplete="new-password" placeholder="new password"
          value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="button" disabled={!password}
          onClick={() => act("Password reset", () => authClient.resetPassword({ accountId: account.id, newPassword: password }))}>
          Reset password
        </button>
        <span class="status" role="status">{message}</span>
      </td>
    </tr>
  );
}

