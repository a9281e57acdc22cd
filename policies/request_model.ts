/**
 * The model a request asks for: the `model` field of the JSON body (Anthropic, OpenAI), or the model in
 * the path (Gemini's `models/<model>:generateContent`, Bedrock's `/model/<model id>/invoke…`, URL-encoded),
 * unless the gateway resolved it otherwise (`RequestView.model`: the model behind an Azure deployment or a
 * Bedrock application inference profile).
 * @module
 */
import { bedrockModelId, bedrockPathId } from "../providers/detect.ts";
import type { RequestView } from "./types.ts";

const GEMINI_PATH_MODEL = /\/models\/([^/:?]+)/;

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
  const bedrock = bedrockPathId(path);
  if (bedrock) return bedrockModelId(bedrock);
  return GEMINI_PATH_MODEL.exec(path)?.[1] ?? null;
}
