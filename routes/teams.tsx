import type { Handlers, PageProps, RouteContext } from "./_lib/context.ts";
import { seeOther } from "./_lib/context.ts";
import { randomToken } from "./_lib/cookies.ts";
import type { DeveloperConfig } from "../config/schema.ts";
import { CsrfField } from "../components/CsrfField.tsx";
import { usd } from "../components/format.ts";
import { periodStarts, spendBy } from "../storage/ui/overview.ts";

interface Data {
  developers: { name: string; team: string | null; hasToken: boolean; keys: number; monthUsd: number }[];
  requireProxyAuth: boolean;
  proxyUrl: string;
  canEdit: boolean;
  csrf?: string;
  /** Shown once, right after issuing. */
  issued?: { name: string; line: string };
  error?: string;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

async function render(ctx: RouteContext, extra: Partial<Data> = {}, status = 200): Promise<Response> {
  const config = ctx.services.config();
  const { month } = periodStarts();
  const spend = new Map((await spendBy(ctx.services.db, "developer", month)).map((r) => [r.key, r.costUsd]));
  ctx.state.title = "Teams and developers";
  return ctx.render(
    {
      developers: config.developers.map((dev) => ({
        name: dev.name,
        team: dev.team,
        hasToken: Boolean(dev.token || dev.tokenHash),
        keys: dev.apiKeyHashes.length,
        monthUsd: spend.get(dev.name) ?? 0,
      })),
      requireProxyAuth: config.requireProxyAuth,
      proxyUrl: ctx.services.proxyUrl(),
      canEdit: ctx.state.user?.role === "admin",
      csrf: ctx.state.user?.csrf,
      ...extra,
    } satisfies Data,
    { status },
  );
}

/** The `HTTPS_PROXY` value carrying a developer's credentials. */
function proxyLine(proxyUrl: string, name: string, token: string): string {
  const url = new URL(proxyUrl);
  url.username = encodeURIComponent(name);
  url.password = encodeURIComponent(token);
  return `export HTTPS_PROXY=${url.toString().replace(/\/$/, "")}`;
}

export const handler: Handlers = {
  GET(_req, ctx) {
    return render(ctx);
  },
  async POST(req, ctx) {
    const form = await req.formData();
    const action = String(form.get("action") ?? "");
    const name = String(form.get("name") ?? "").trim();
    const actor = ctx.state.user!.name;
    const developers: DeveloperConfig[] = structuredClone(ctx.services.config().developers);
    const dev = developers.find((d) => d.name === name);
    if (action === "add") {
      const team = String(form.get("team") ?? "").trim();
      if (!NAME.test(name)) {
        return render(ctx, {
          error: `A developer name is 1–64 letters, digits or ._@-, got "${name.slice(0, 64)}"`,
        }, 422);
      }
      if (team && !NAME.test(team)) {
        return render(ctx, {
          error: `A team name is 1–64 letters, digits or ._@-, got "${team.slice(0, 64)}"`,
        }, 422);
      }
      if (dev) return render(ctx, { error: `Developer "${name}" already exists` }, 409);
      developers.push({ name, team: team || null, apiKeyHashes: [] });
      const result = await ctx.services.saveDevelopers(developers, actor, `add developer ${name}`);
      if (!result.ok) return render(ctx, { error: result.reason }, 422);
      return seeOther(`/teams?notice=${encodeURIComponent(`Added ${name}`)}`);
    }
    if (!dev) return render(ctx, { error: `No developer "${name.slice(0, 64)}"` }, 404);
    if (action === "issue") {
      const token = randomToken(24);
      dev.token = token;
      const result = await ctx.services.saveDevelopers(
        developers,
        actor,
        `issue proxy credentials for ${name}`,
      );
      if (!result.ok) return render(ctx, { error: result.reason }, 422);
      return render(ctx, { issued: { name, line: proxyLine(ctx.services.proxyUrl(), name, token) } });
    }
    if (action === "team") {
      const team = String(form.get("team") ?? "").trim();
      if (team && !NAME.test(team)) {
        return render(ctx, {
          error: `A team name is 1–64 letters, digits or ._@-, got "${team.slice(0, 64)}"`,
        }, 422);
      }
      const before = dev.team;
      dev.team = team || null;
      const result = await ctx.services.saveDevelopers(
        developers,
        actor,
        `move ${name} from team ${before ?? "(none)"} to ${dev.team ?? "(none)"}`,
      );
      if (!result.ok) return render(ctx, { error: result.reason }, 422);
      return seeOther(`/teams?notice=${encodeURIComponent(`Moved ${name} to ${dev.team ?? "no team"}`)}`);
    }
    if (action === "revoke") {
      delete dev.token;
      delete dev.tokenHash;
      const result = await ctx.services.saveDevelopers(
        developers,
        actor,
        `revoke proxy credentials of ${name}`,
      );
      if (!result.ok) return render(ctx, { error: result.reason }, 422);
      return seeOther(`/teams?notice=${encodeURIComponent(`Revoked the credentials of ${name}`)}`);
    }
    return render(ctx, { error: `Unknown action "${action.slice(0, 40)}"` }, 400);
  },
};

function Act(props: { data: Data; name: string; action: string; label: string }) {
  return (
    <form method="post" action="/teams" class="inline">
      <CsrfField token={props.data.csrf} />
      <input type="hidden" name="name" value={props.name} />
      <input type="hidden" name="action" value={props.action} />
      <button type="submit" disabled={!props.data.canEdit}>{props.label}</button>
    </form>
  );
}

/** Developers by team, their spend this month, and their proxy credentials. */
export default function Teams({ data }: PageProps<Data>) {
  const teams = new Map<string, Data["developers"]>();
  for (const dev of data.developers) {
    const key = dev.team ?? "(no team)";
    teams.set(key, [...(teams.get(key) ?? []), dev]);
  }
  return (
    <>
      <h1>Teams and developers</h1>
      {data.error ? <p class="notice error" role="alert">{data.error}</p> : null}
      {data.issued
        ? (
          <div class="notice ok" role="status">
            <p>
              New credentials for{" "}
              <strong>{data.issued.name}</strong>. Copy this line now; it is not shown again:
            </p>
            <pre class="copy">{data.issued.line}</pre>
          </div>
        )
        : null}
      <p>
        Proxy authentication is{" "}
        {data.requireProxyAuth ? <strong>required</strong> : <strong>optional</strong>}{" "}
        (<code>requireProxyAuth</code> in the config).
      </p>
      {[...teams].map(([team, devs]) => (
        <section>
          <h2>{team}</h2>
          <table class="fixed">
            <thead>
              <tr>
                <th scope="col">Developer</th>
                <th scope="col">Credentials</th>
                <th scope="col" class="num">API keys</th>
                <th scope="col" class="num">Spend this month</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {devs.map((d) => (
                <tr>
                  <th scope="row">{d.name}</th>
                  <td>{d.hasToken ? "issued" : "none"}</td>
                  <td class="num">{d.keys}</td>
                  <td class="num">{usd(d.monthUsd)}</td>
                  <td>
                    <Act data={data} name={d.name} action="issue" label={d.hasToken ? "Re-issue" : "Issue"} />
                    {d.hasToken ? <Act data={data} name={d.name} action="revoke" label="Revoke" /> : null}
                    <form method="post" action="/teams" class="inline">
                      <CsrfField token={data.csrf} />
                      <input type="hidden" name="name" value={d.name} />
                      <input type="hidden" name="action" value="team" />
                      <label for={`team-${d.name}`} class="sr-only">Team of {d.name}</label>
                      <input
                        id={`team-${d.name}`}
                        name="team"
                        value={d.team ?? ""}
                        size={12}
                        disabled={!data.canEdit}
                      />
                      <button type="submit" disabled={!data.canEdit}>Move</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      {data.canEdit
        ? (
          <form method="post" action="/teams" class="add">
            <CsrfField token={data.csrf} />
            <input type="hidden" name="action" value="add" />
            <label for="dev-name">Developer</label>
            <input id="dev-name" name="name" required />
            <label for="dev-team">Team</label>
            <input id="dev-team" name="team" />
            <button type="submit">Add developer</button>
          </form>
        )
        : null}
    </>
  );
}
