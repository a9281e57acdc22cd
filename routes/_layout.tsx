import type { LayoutProps } from "./_lib/context.ts";
import { CsrfField } from "../components/CsrfField.tsx";
import { Notice } from "../components/Notice.tsx";

const NAV: [string, string][] = [
  ["/", "Overview"],
  ["/live", "Live"],
  ["/sessions", "Sessions"],
  ["/policies", "Policies"],
  ["/budgets", "Budgets"],
  ["/teams", "Teams"],
  ["/gateways", "Gateways"],
  ["/events", "Events"],
  ["/integrity", "Integrity"],
  ["/audit", "Audit"],
];

function current(path: string, href: string): boolean {
  return href === "/" ? path === "/" : path === href || path.startsWith(`${href}/`);
}

/** The page frame: navigation, the user and their role, logout, and any notice. */
export default function Layout({ Component, state, url }: LayoutProps) {
  const user = state.user;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{state.title ? `${state.title} · Recondo` : "Recondo"}</title>
        <link rel="stylesheet" href="/static/ui.css" />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        {user
          ? (
            <header class="top">
              <span class="brand">Recondo</span>
              <nav aria-label="Main">
                {NAV.map(([href, label]) => (
                  <a href={href} aria-current={current(url.pathname, href) ? "page" : undefined}>{label}</a>
                ))}
              </nav>
              <form method="post" action="/logout" class="who">
                <span>
                  {user.name} <span class={`role ${user.role}`}>{user.role}</span>
                </span>
                <CsrfField token={user.csrf} />
                <button type="submit" class="link">Log out</button>
              </form>
            </header>
          )
          : null}
        <main id="main">
          <Notice text={state.notice} />
          <Component />
        </main>
      </body>
    </html>
  );
}
