// The signed-in frame: who is signed in, the role's pages, log out, the page.
import { useEffect, useRef } from "preact/hooks";
import type { Account } from "./gen/ates/auth/v1/auth_service_pb";
import { routesFor } from "./routes";
import { useHashPath } from "./hooks/useHashPath";
import { kRoleNames } from "./format";

export function Shell({ account, onLogOut }: { account: Account; onLogOut: () => void }) {
  const routes = routesFor(account.role);
  const path = useHashPath();
  const route = routes.find((r) => r.path === path) ?? routes[0];
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [route.path]);
  return (
    <>
      <header class="top">
        <span class="brand">aTES</span>
        <nav aria-label="Pages">
          <ul>
            {routes.map((r) => (
              <li key={r.path}>
                <a href={`#/${r.path}`} aria-current={r === route ? "page" : undefined}>{r.title}</a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" data-testid="who">
          {account.fullName} ({account.login}, {kRoleNames[account.role]})
        </span>
        <button type="button" onClick={onLogOut}>Log out</button>
      </header>
      <main>
        <h1 ref={heading} tabIndex={-1}>{route.title}</h1>
        <div key={route.path}>{route.render(account.role)}</div>
      </main>
    </>
  );
}
