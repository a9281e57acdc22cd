/**
 * The model a request asks for: the `model` field of the JSON body (Anthropic, OpenAI), or the model in
 * the path (Gemini's `models/<model>:generateContent`, Bedrock's `/model/<model id>/invoke…`, URL-encoded),
 * unless the gateway resolved it otherwise (`RequestView.model`: an Azure deployment's model).
 * @module
 */
import { bedrockModelId } from "../providers/detect.ts";
import type { RequestView } from "./types.ts";

const GEMINI_PATH_MODEL = /\/models\/([^/:?]+)/;
const BEDROCK_PATH_MODEL = /^\/model\/([^/?]+)\//;

export function requestModel(request: Pick<RequestView, "path" | "json" | "model">): string | null {
  if (request.model) return request.model;
  const json = request.json;
  if (json && typeof json === "object" && "model" in json && typeof json.model === "string") {
    return json.model;
  }
  return pathModel(request.path);
}

/**
 * The model named by a request path, or null. A Bedrock ARN gives the model it names (an application
 * inference profile names none: `bedrockModelId`).
 */
export function pathModel(path: string): string | null {
  const bedrock = BEDROCK_PATH_MODEL.exec(path)?.[1];
  if (bedrock) {
    let id = bedrock;
    try {
      id = decodeURIComponent(bedrock);
    } catch { /* keep the id as sent */ }
    return bedrockModelId(id);
  }
  return GEMINI_PATH_MODEL.exec(path)?.[1] ?? null;
}
