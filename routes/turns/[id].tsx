import type { Handlers, PageProps } from "../_lib/context.ts";
import { count, duration, time, usd } from "../../components/format.ts";
import { Body } from "../../components/Body.tsx";
import { getTurn, type TurnDetail } from "../../storage/queries.ts";
import { readBody } from "../../storage/bodies/read.ts";
import { sha256Hex } from "../../storage/objects/content.ts";

interface Captured {
  sha256: string;
  text: string | null;
  /** `null` until verified; then whether the stored bytes hash to the recorded SHA-256. */
  verified: boolean | null;
  bytes: number | null;
}

interface Data {
  turn: TurnDetail;
  request: Captured;
  response: Captured;
  verify: boolean;
  objectsAvailable: boolean;
}

const MAX_SHOWN = 4 * 1024 * 1024;

async function load(
  ctx: Parameters<NonNullable<Handlers["GET"]>>[1],
  sha: string,
  verify: boolean,
): Promise<Captured> {
  const store = ctx.services.objects;
  if (!store || !/^[0-9a-f]{64}$/.test(sha)) return { sha256: sha, text: null, verified: null, bytes: null };
  const bytes = await readBody(ctx.services.db, store, sha);
  if (!bytes) return { sha256: sha, text: null, verified: verify ? false : null, bytes: null };
  const text = new TextDecoder().decode(bytes.length > MAX_SHOWN ? bytes.subarray(0, MAX_SHOWN) : bytes);
  return { sha256: sha, text, verified: verify ? sha256Hex(bytes) === sha : null, bytes: bytes.length };
}

export const handler: Handlers = {
  async GET(_req, ctx) {
    const turn = await getTurn(ctx.services.db, ctx.params.id, { objects: ctx.services.objects });
    if (!turn) return new Response(`No turn "${ctx.params.id.slice(0, 100)}"\n`, { status: 404 });
    const verify = ctx.url.searchParams.get("verify") === "1";
    ctx.state.title = `Turn ${turn.seq}`;
    return ctx.render(
      {
        turn,
        request: await load(ctx, turn.request_sha256, verify),
        response: await load(ctx, turn.response_sha256, verify),
        verify,
        objectsAvailable: ctx.services.objects !== null,
      } satisfies Data,
    );
  },
};

function Verdict(props: { c: Captured }) {
  if (props.c.verified === null) return null;
  return props.c.verified
    ? <strong class="ok">✓ stored bytes match</strong>
    : <strong class="bad">✗ stored bytes missing or do not match</strong>;
}

export default function Turn({ data }: PageProps<Data>) {
  const t = data.turn;
  const responseType = t.exchange?.response_headers?.["content-type"] ?? null;
  return (
    <>
      <p class="crumbs">
        <a href="/sessions">Sessions</a> /{" "}
        <a href={`/sessions/${encodeURIComponent(t.session_id)}#turn-${t.seq}`}>
          {t.session_id.slice(0, 12)}
        </a>{" "}
        / turn {t.seq}
      </p>
      <h1>Turn {t.seq}</h1>
      <dl class="facts">
        <dt>Request</dt>
        <dd>{t.exchange ? `${t.exchange.method} https://${t.exchange.host}${t.exchange.path}` : "—"}</dd>
        <dt>Started</dt>
        <dd>{time(t.started_at)}</dd>
        <dt>Model</dt>
        <dd>{t.model ?? "—"} ({t.provider}{t.api ? `, ${t.api}` : ""})</dd>
        <dt>Status</dt>
        <dd>{t.status ?? "—"} {t.outcome ?? ""} {t.stop_reason ? `(${t.stop_reason})` : ""}</dd>
        <dt>Tokens</dt>
        <dd>
          {count(t.input_tokens)} in, {count(t.output_tokens)} out, {count(t.cache_read_tokens)} cache read,
          {" "}
          {count(t.cache_write_tokens)} cache write{t.usage_estimated ? " (estimated)" : ""}
        </dd>
        <dt>Cost</dt>
        <dd>
          {usd(t.cost_usd)}
          {t.provider_reported_cost_usd === null
            ? ""
            : ` (provider reported ${usd(t.provider_reported_cost_usd)})`}
        </dd>
        {t.deployment === null ? null : (
          <>
            <dt>Deployment</dt>
            <dd>{t.deployment}</dd>
          </>
        )}
        <dt>Latency</dt>
        <dd>ttfb {duration(t.ttfb_ms)}, total {duration(t.duration_ms)}</dd>
        <dt>Request SHA-256</dt>
        <dd>
          <code>{t.request_sha256}</code> <Verdict c={data.request} />
        </dd>
        <dt>Response SHA-256</dt>
        <dd>
          <code>{t.response_sha256}</code> <Verdict c={data.response} />
        </dd>
        <dt>Chain</dt>
        <dd>
          prev <code>{t.prev_hash.slice(0, 16)}…</code> → hash <code>{t.hash.slice(0, 16)}…</code>
        </dd>
      </dl>
      <form method="get" action={`/turns/${encodeURIComponent(t.id)}`}>
        <input type="hidden" name="verify" value="1" />
        <button type="submit">Verify stored bodies</button>
      </form>
      {data.objectsAvailable
        ? null
        : <p class="notice error">No object store is attached: bodies cannot be shown.</p>}
      <h2>Request body {data.request.bytes !== null ? `(${count(data.request.bytes)} bytes)` : ""}</h2>
      <Body text={data.request.text} missing="Request body not in the object store." />
      <h2>Response body {data.response.bytes !== null ? `(${count(data.response.bytes)} bytes)` : ""}</h2>
      <Body
        text={data.response.text}
        contentType={responseType}
        missing="Response body not in the object store."
      />
    </>
  );
}
