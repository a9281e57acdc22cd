/**
 * Bedrock `InvokeModel` and `InvokeModelWithResponseStream` for Anthropic models: the payloads are Anthropic
 * Messages. A streamed event arrives as an event-stream `chunk` whose JSON payload is
 * `{"bytes": "<base64 of one Anthropic stream event>"}`; the whole answer is the Anthropic `message` object.
 * Bedrock's errors are `{"message": "…"}` (the type is in the `x-amzn-errortype` header or, mid-stream, the
 * exception frame, which the framing layer reports). The model reported is the id the client invoked
 * (`us.anthropic.claude-…-v1:0`): that, not the base model Claude names, is what AWS bills.
 * @module
 */
import { type Json, obj, str } from "./_json.ts";
import { anthropicMessagesAdapter } from "./anthropic_messages.ts";
import type { WireAdapter } from "./wire_adapter.ts";

/** A fresh adapter for one Bedrock InvokeModel(WithResponseStream) response of `pathModel`. */
export function bedrockInvokeAdapter(pathModel: string | null): WireAdapter {
  const anthropic = anthropicMessagesAdapter();
  return {
    event(b, name, data) {
      const bytes = str(data.bytes);
      if (bytes !== null) {
        const inner = obj(JSON.parse(decodeBase64Text(bytes)));
        if (!inner) return b.malformed("Bedrock chunk does not hold a JSON object");
        return anthropic.event(b, null, withModel(inner, pathModel));
      }
      if (str(data.message) !== null && data.type === undefined) {
        b.providerError(name ?? "error", str(data.message) ?? "");
        return b.terminal();
      }
      anthropic.event(b, name === "chunk" ? null : name, withModel(data, pathModel));
    },
  };
}

/** The event with the invoked model id in place of the one Claude reports (message_start, whole message). */
function withModel(event: Json, model: string | null): Json {
  if (!model) return event;
  if (event.type === "message") return { ...event, model };
  const message = obj(event.message);
  if (event.type === "message_start" && message) return { ...event, message: { ...message, model } };
  return event;
}

function decodeBase64Text(base64: string): string {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}
