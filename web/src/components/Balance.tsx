import { billingClient } from "../api/clients";
import { useLoad } from "../hooks/useLoad";
import { dollars } from "../format";
import { ErrorText } from "./ErrorText";

/** An account's current balance; accountId "" is the caller's own. */
export function Balance({ accountId }: { accountId: string }) {
  const balance = useLoad(() => billingClient.getBalance({ accountId }), accountId);
  return (
    <section aria-labelledby="balance-title">
      <h2 id="balance-title">Balance</h2>
      <ErrorText error={balance.error} />
      {balance.data && (
        <p class={balance.data.balanceCents < 0n ? "balance negative" : "balance"} data-testid="balance">
          {dollars(balance.data.balanceCents)}
        </p>
      )}
    </section>
  );
}
