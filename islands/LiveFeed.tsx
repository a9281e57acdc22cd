import { useEffect, useState } from "preact/hooks";
import type { LiveExchange } from "../storage/ui/activity.ts";

const MAX_ROWS = 200;

function money(v: number | null): string {
  return v === null ? "—" : `$${v.toFixed(v > 0 && v < 0.01 ? 4 : 2)}`;
}

/**
 * Exchanges as capture persists them, over server-sent events from `/live/stream`. The server renders the
 * latest rows, so without JavaScript the page still shows a snapshot.
 */
export default function LiveFeed(props: { initial: LiveExchange[] }) {
  const [rows, setRows] = useState<LiveExchange[]>(props.initial);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource("/live/stream");
    const pending: LiveExchange[] = [];
    let frame = 0;
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener("exchange", (event) => {
      pending.push(JSON.parse((event as MessageEvent).data));
      // Batch per animation frame so hundreds of exchanges a second cost one render each frame.
      if (!frame) {
        frame = requestAnimationFrame(() => {
          frame = 0;
          const batch = pending.splice(0).reverse();
          setRows((old) => {
            const seen = new Set(batch.map((r) => r.id));
            return batch.concat(old.filter((r) => !seen.has(r.id))).slice(0, MAX_ROWS);
          });
        });
      }
    });
    return () => source.close();
  }, []);
  return (
    <div>
      <p class="live-state" aria-live="polite">{connected ? "● Live" : "○ Snapshot (connecting…)"}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Captured</th>
            <th scope="col">Developer</th>
            <th scope="col">Provider</th>
            <th scope="col">Model</th>
            <th scope="col">Request</th>
            <th scope="col" class="num">Status</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col" class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} class={r.status !== null && r.status >= 400 ? "bad" : undefined}>
              <td>{new Date(r.capturedAt).toISOString().slice(11, 19)}</td>
              <td>{r.developer ?? "—"}</td>
              <td>{r.provider}</td>
              <td>{r.model ?? "—"}</td>
              <td>
                {r.sessionId
                  ? <a href={`/sessions/${encodeURIComponent(r.sessionId)}`}>{r.method} {r.path}</a>
                  : (
                    `${r.method} ${r.path}`
                  )}
              </td>
              <td class="num">{r.status ?? r.outcome ?? "—"}</td>
              <td class="num">{r.durationMs === null ? "—" : `${r.durationMs} ms`}</td>
              <td class="num">{money(r.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
