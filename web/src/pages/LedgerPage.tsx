// Any account's balance, audit log and payouts (admin, accountant). Accounts
// are chosen by name: admins list every account; accountants, who may not list
// accounts, choose among those with postings in the last 31 days.
import { useState } from "preact/hooks";
import { authClient, billingClient } from "../api/clients";
import { Role } from "../gen/ates/common/v1/role_pb";
import { useLoad } from "../hooks/useLoad";
import { person } from "../format";
import { Field } from "../components/Field";
import { ErrorText } from "../components/ErrorText";
import { Balance } from "../components/Balance";
import { AuditLog } from "../components/AuditLog";
import { Payouts } from "../components/Payouts";
import { addDays } from "../dates";

async function accountsFromAuth(): Promise<[string, string][]> {
  const out: [string, string][] = [];
  let pageToken = "";
  do {
    const r = await authClient.listAccounts({ pageToken, pageSize: 500 });
    for (const a of r.accounts) out.push([a.id, person(a.login, a.fullName)]);
    pageToken = r.nextPageToken;
  } while (pageToken);
  return out;
}

async function accountsFromLedger(): Promise<[string, string][]> {
  const today = (await billingClient.getManagementEarnings({})).today?.businessDate ?? "";
  const seen = new Map<string, string>();
  let pageToken = "";
  do {
    const r = await billingClient.listTransactions({ accountId: "*", fromDate: addDays(today, -30), toDate: today, pageToken, pageSize: 500 });
    for (const t of r.transactions) seen.set(t.accountId, person(t.accountLogin, t.accountName));
    pageToken = r.nextPageToken;
  } while (pageToken);
  return [...seen.entries()];
}

export function LedgerPage({ role }: { role: Role }) {
  const [accountId, setAccountId] = useState("");
  const accounts = useLoad(async () => {
    const list = role === Role.ADMIN ? await accountsFromAuth() : await accountsFromLedger();
    return list.sort((a, b) => a[1].localeCompare(b[1]));
  }, String(role));
  return (
    <>
      <ErrorText error={accounts.error} />
      <Field label="Account">
        {(id) => (
          <select id={id} value={accountId} onChange={(e) => setAccountId(e.currentTarget.value)}>
            <option value="">choose an account</option>
            {(accounts.data ?? []).map(([aid, name]) => <option key={aid} value={aid}>{name}</option>)}
          </select>
        )}
      </Field>
      {accountId && (
        <>
          <Balance accountId={accountId} />
          <AuditLog accountId={accountId} />
        </>
      )}
      <Payouts accountId="*" title="Everyone's payouts" />
    </>
  );
}
