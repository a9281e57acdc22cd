import type { Handlers, PageProps } from "../_lib/context.ts";
import { count, duration, time, usd } from "../../components/format.ts";
import { Pre, prettyJson } from "../../components/Pre.tsx";
import { type SessionTrace, sessionTrace } from "../../storage/ui/trace.ts";

export const handler: Handlers = {
  async GET(_req, ctx) {
    const trace = await sessionTrace(ctx.services.db, ctx.params.id, { objects: ctx.services.objects });
    ctx.state.title = `Session ${ctx.params.id.slice(0, 12)}`;
    if (!trace) return new Response(`No session "${ctx.params.id.slice(0, 100)}"\n`, { status: 404 });
    return ctx.render(trace);
  },
};

export default function Session({ data: s }: PageProps<SessionTrace>) {
  return (
    <>
      <p class="crumbs">
        <a href="/sessions">Sessions</a> / {s.id}
      </p>
      <h1>Session {s.id.slice(0, 12)}</h1>
      <dl class="facts">
        <dt>Developer</dt>
        <dd>{s.developer ?? "—"} ({s.team ?? "no team"})</dd>
        <dt>Provider / model</dt>
        <dd>{s.provider} / {s.model ?? "—"}</dd>
        <dt>Repo</dt>
        <dd>{s.repo ?? "—"}{s.branch ? ` @ ${s.branch}` : ""}</dd>
        <dt>Started</dt>
        <dd>{time(s.started_at)}</dd>
        <dt>Last activity</dt>
        <dd>{time(s.last_activity_at)}</dd>
        <dt>Turns</dt>
        <dd>{s.turn_count}</dd>
        <dt>Tokens</dt>
        <dd>
          {count(s.input_tokens)} in, {count(s.output_tokens)} out, {count(s.cache_read_tokens)} cache read,
          {" "}
          {count(s.reasoning_tokens)} reasoning
        </dd>
        <dt>Cost</dt>
        <dd>{usd(s.cost_usd)}</dd>
      </dl>
      {s.intent ? <p class="intent">{s.intent}</p> : null}
      <ol class="trace">
        {s.turns.map((t) => (
          <li id={`turn-${t.seq}`} class="turn">
            <header>
              <h2>
                <a href={`/turns/${encodeURIComponent(t.id)}`}>Turn {t.seq}</a>
              </h2>
              <span>{time(t.started_at)}</span>
              <span>{t.model ?? t.provider}</span>
              <span class={t.status !== null && t.status >= 400 ? "bad" : ""}>
                status {t.status ?? t.outcome ?? "—"}
              </span>
              <span>
                {count(t.input_tokens)} in / {count(t.output_tokens)}{" "}
                out{t.usageEstimated ? " (estimated)" : ""}
              </span>
              <span>{usd(t.cost_usd)}</span>
              <span>ttfb {duration(t.ttfb_ms)}, total {duration(t.duration_ms)}</span>
            </header>
            <section>
              <h3>Prompt</h3>
              <Pre text={t.prompt} label="prompt" />
            </section>
            {t.toolResults.length
              ? (
                <section>
                  <h3>Tool results sent</h3>
                  {t.toolResults.map((r) => (
                    <div class={r.isError ? "tool error" : "tool"}>
                      <p class="muted">
                        {r.toolName ? <strong>{r.toolName}</strong> : null}
                        {r.toolName ? " " : ""}
                        {r.callId}
                        {r.isError ? " (error)" : ""}
                      </p>
                      <Pre text={r.content} limit={800} />
                    </div>
                  ))}
                </section>
              )
              : null}
            {t.thinkingText
              ? (
                <section>
                  <h3>Thinking</h3>
                  <Pre text={t.thinkingText} label="thinking" />
                </section>
              )
              : null}
            <section>
              <h3>Response{t.stopReason ? ` (${t.stopReason})` : ""}</h3>
              <Pre text={t.responseText} label="response text" />
            </section>
            {t.tool_calls.length
              ? (
                <section>
                  <h3>Tool calls</h3>
                  {t.tool_calls.map((c) => (
                    <div class="tool">
                      <p>
                        <strong>{c.name}</strong> <span class="muted">{c.id}</span>
                      </p>
                      <Pre text={prettyJson(c.arguments)} limit={1_500} />
                    </div>
                  ))}
                </section>
              )
              : null}
            {t.decisionsFull.length
              ? (
                <section>
                  <h3>Policy decisions</h3>
                  <ul class="decisions">
                    {t.decisionsFull.map((d) => (
                      <li class={`decision ${d.kind}`}>
                        <strong>{d.policy}</strong> {d.hook}: {d.kind}
                        {d.enforced ? "" : " (observed)"} — {d.reason}
                      </li>
                    ))}
                  </ul>
                </section>
              )
              : null}
          </li>
        ))}
      </ol>
    </>
  );
}
