// How values read on the page: money in dollars with cents, people by name
// and login (never a bare id), roles and transaction kinds in words.
import { Role } from "./gen/ates/common/v1/role_pb";
import { TransactionKind } from "./gen/ates/billing/v1/billing_service_pb";
import { TaskStatus } from "./gen/ates/tasks/v1/task_service_pb";

/** -1234n -> "-$12.34"; 5n -> "$0.05". Exact: bigint cents, no floating point. */
export function dollars(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = (abs % 100n).toString().padStart(2, "0");
  return `${negative ? "-" : ""}$${whole}.${frac}`;
}

/** Plain decimal for CSV: -1234n -> "-12.34". */
export function decimalDollars(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  return `${negative ? "-" : ""}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** "Ann Smith (ann)"; while the server's replica has not seen the account: a placeholder. */
export function person(login: string, name: string): string {
  if (!login) return "(account not known yet)";
  return name ? `${name} (${login})` : login;
}

export const kRoleNames: Record<Role, string> = {
  [Role.UNSPECIFIED]: "unknown",
  [Role.ADMIN]: "admin",
  [Role.MANAGER]: "manager",
  [Role.ACCOUNTANT]: "accountant",
  [Role.WORKER]: "worker",
};

export const kKindNames: Record<TransactionKind, string> = {
  [TransactionKind.UNSPECIFIED]: "unknown",
  [TransactionKind.ASSIGN_FEE]: "fee",
  [TransactionKind.COMPLETION_REWARD]: "reward",
  [TransactionKind.PAYOUT]: "payout",
};

export const kStatusNames: Record<TaskStatus, string> = {
  [TaskStatus.UNSPECIFIED]: "unknown",
  [TaskStatus.OPEN]: "open",
  [TaskStatus.COMPLETED]: "completed",
};

/** "[UP-42] Fix the login" or just the title. */
export function taskLabel(title: string, jiraId: string): string {
  if (!title && !jiraId) return "(task not known yet)";
  return jiraId ? `[${jiraId}] ${title}` : title;
}
