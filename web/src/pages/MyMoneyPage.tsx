import { Balance } from "../components/Balance";
import { AuditLog } from "../components/AuditLog";
import { Payouts } from "../components/Payouts";

/** The caller's own balance, audit log and payouts (account id "" = mine). */
export function MyMoneyPage() {
  return (
    <>
      <Balance accountId="" />
      <AuditLog accountId="" />
      <Payouts accountId="" />
    </>
  );
}
