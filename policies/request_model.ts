/**
 * The model a request asks for: the `model` field of the JSON body (Anthropic, OpenAI) or the model in
 * the path (Gemini's `models/<model>:generateContent`).
 * @module
 */
import type { RequestView } from "./types.ts";

const GEMINI_PATH_MODEL = /\/models\/([^/:?]+)/;

export function requestModel(request: Pick<RequestView, "path" | "json">): string | null {
  const json = request.json;
  if (json && typeof json === "object" && "model" in json && typeof json.model === "string") {
    return json.model;
  }
  return GEMINI_PATH_MODEL.exec(request.path)?.[1] ?? null;
}
