// End-of-day payouts of one account ("" = the caller) or of everyone ("*").
import { billingClient } from "../api/clients";
import { usePaged } from "../hooks/usePaged";
import { dollars, person } from "../format";
import { ErrorText } from "./ErrorText";
import { Pager } from "./Pager";

export function Payouts({ accountId, title = "Payouts" }: { accountId: string; title?: string }) {
  const paged = usePaged(async (pageToken) => {
    const r = await billingClient.listPayouts({ accountId, pageToken, pageSize: 50 });
    return { items: r.payouts, next: r.nextPageToken };
  }, accountId);
  return (
    <section aria-labelledby="payouts-title">
      <h2 id="payouts-title">{title}</h2>
      <ErrorText error={paged.error} />
      {!paged.loading && paged.items.length === 0 && !paged.error && <p>No payouts yet.</p>}
      {paged.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Business day</th>
              {accountId === "*" && <th scope="col">Account</th>}
              <th scope="col" class="num">Amount</th>
              <th scope="col">E-mail sent</th>
            </tr>
          </thead>
          <tbody>
            {paged.items.map((p) => (
              <tr key={p.id}>
                <td>{p.businessDate}</td>
                {accountId === "*" && <td>{person(p.accountLogin, p.accountName)}</td>}
                <td class="num">{dollars(p.amountCents)}</td>
                <td>{p.emailSent ? "yes" : "not yet"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager paged={paged} label="Payouts" />
    </section>
  );
}
