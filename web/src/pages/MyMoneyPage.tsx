import { Balance } from "../components/Balance";
import { AuditLog } from "../components/AuditLog";
import { Payouts } from "../components/Payouts";

/** The caller's own balance, audit log and payouts (account id "" = mine). */
export function MyMoneyPage() {
  return (
    <>
      <Balance accountId="" refresh={0} />
      <AuditLog accountId="" refresh={0} />
      <Payouts accountId="" refresh={0} />
    </>
  );
}
