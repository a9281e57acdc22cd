import { clip } from "./format.ts";

/**
 * Long text in a `<pre>`; beyond `limit` characters the rest folds into `<details>` (works without
 * JavaScript).
 */
export function Pre(props: { text: string | null; limit?: number; label?: string }) {
  const text = props.text ?? "";
  const limit = props.limit ?? 2_000;
  if (!text) return <p class="muted">{props.label ? `No ${props.label}.` : "—"}</p>;
  if (text.length <= limit) return <pre>{text}</pre>;
  return (
    <details>
      <summary>
        <pre class="inline">{clip(text, 300)}</pre>
        <span class="muted">Show all {text.length.toLocaleString("en-US")} characters</span>
      </summary>
      <pre>{text}</pre>
    </details>
  );
}

/** A tool call's arguments as indented JSON when they parse, else as sent. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
