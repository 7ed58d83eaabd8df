// Which pages each role sees. The UI hides what a role may not use; the
// services enforce it anyway (a hidden page's calls are refused).
import type { ComponentChildren } from "preact";
import { Role } from "./gen/ates/common/v1/role_pb";
import { MyTasksPage } from "./pages/MyTasksPage";
import { MyMoneyPage } from "./pages/MyMoneyPage";
import { TasksBoardPage } from "./pages/TasksBoardPage";
import { EarningsPage } from "./pages/EarningsPage";
import { LedgerPage } from "./pages/LedgerPage";
import { ExportPage } from "./pages/ExportPage";
import { AccountsPage } from "./pages/AccountsPage";
import { AnalyticsPage } from "./pages/AnalyticsPage";
import { CloseDayPage } from "./pages/CloseDayPage";
import { PasswordPage } from "./pages/PasswordPage";

export interface Route {
  path: string;
  title: string;
  roles: Role[];
  render: (role: Role) => ComponentChildren;
}

const { ADMIN, MANAGER, ACCOUNTANT, WORKER } = Role;

export const kRoutes: Route[] = [
  { path: "my-tasks", title: "My tasks", roles: [WORKER, ACCOUNTANT], render: () => <MyTasksPage /> },
  { path: "my-money", title: "My balance", roles: [WORKER, ACCOUNTANT], render: () => <MyMoneyPage /> },
  { path: "tasks", title: "All tasks", roles: [MANAGER, ADMIN], render: () => <TasksBoardPage /> },
  { path: "earnings", title: "Earnings", roles: [ACCOUNTANT, ADMIN], render: () => <EarningsPage /> },
  { path: "ledger", title: "Balances and payouts", roles: [ACCOUNTANT, ADMIN], render: (r) => <LedgerPage role={r} /> },
  { path: "export", title: "Export", roles: [ACCOUNTANT, ADMIN], render: () => <ExportPage /> },
  { path: "accounts", title: "Accounts", roles: [ADMIN], render: () => <AccountsPage /> },
  { path: "analytics", title: "Analytics", roles: [ADMIN], render: () => <AnalyticsPage /> },
  { path: "close-day", title: "Close a day", roles: [ADMIN], render: () => <CloseDayPage /> },
  { path: "password", title: "Password", roles: [ADMIN, MANAGER, ACCOUNTANT, WORKER], render: () => <PasswordPage /> },
];

export function routesFor(role: Role): Route[] {
  return kRoutes.filter((r) => r.roles.includes(role));
}
