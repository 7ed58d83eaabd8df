import { useState } from "preact/hooks";
import { authClient } from "../api/clients";
import { usePaged } from "../hooks/usePaged";
import { AccountRow } from "../components/AccountRow";
import { CreateAccountForm } from "../components/CreateAccountForm";
import { ErrorText } from "../components/ErrorText";
import { Pager } from "../components/Pager";

/** Admin: every account, page by page, and a form for a new one. */
export function AccountsPage() {
  const [generation, setGeneration] = useState(0);
  const paged = usePaged(async (pageToken) => {
    const r = await authClient.listAccounts({ pageToken, pageSize: 50 });
    return { items: r.accounts, next: r.nextPageToken };
  }, String(generation));
  const refresh = () => setGeneration((g) => g + 1);
  return (
    <>
      <CreateAccountForm onCreated={refresh} />
      <ErrorText error={paged.error} />
      <table class="accounts">
        <thead>
          <tr>
            <th scope="col">Name</th><th scope="col">Login</th><th scope="col">E-mail</th>
            <th scope="col">Role</th><th scope="col">State</th><th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {paged.items.map((a) => <AccountRow key={a.id} account={a} onChanged={paged.reload} />)}
        </tbody>
      </table>
      <Pager paged={paged} label="Accounts" />
    </>
  );
}
