/** A status line at the top of a page (`role="status"` so screen readers announce it). */
export function Notice(props: { text?: string; kind?: "ok" | "error" }) {
  if (!props.text) return null;
  return <p class={`notice ${props.kind ?? "ok"}`} role="status">{props.text}</p>;
}
