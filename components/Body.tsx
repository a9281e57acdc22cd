import { Pre } from "./Pre.tsx";

/**
 * A captured body, readable: pretty JSON, SSE split into its events (one row each, data as sent: a Claude
 * Code answer streams hundreds of small deltas, which indented would run to pages), else text as sent.
 */
export function Body(props: { text: string | null; contentType?: string | null; missing?: string }) {
  if (props.text === null) return <p class="muted">{props.missing ?? "Body not available."}</p>;
  const text = props.text;
  const type = props.contentType ?? "";
  if (type.includes("text/event-stream") || /^(event|data): /m.test(text.slice(0, 200))) {
    const events = text.split(/\r?\n\r?\n/).filter((e) => e.trim()).slice(0, 2_000);
    return (
      <ol class="sse">
        {events.map((event) => {
          const name = event.match(/^event: ?(.*)$/m)?.[1] ?? "message";
          const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim())
            .join("\n");
          return (
            <li>
              <span class="event-name">{name}</span>
              <Pre text={data} limit={600} />
            </li>
          );
        })}
      </ol>
    );
  }
  try {
    return <Pre text={JSON.stringify(JSON.parse(text), null, 2)} limit={20_000} />;
  } catch {
    return <Pre text={text} limit={20_000} />;
  }
}
