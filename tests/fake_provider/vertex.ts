/**
 * Vertex AI paths of the fake provider. Vertex serves the publishers' own wire formats under
 * `/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`
 * (express mode with an API key drops the project and location): Anthropic's Messages through
 * `rawPredict` / `streamRawPredict`, with the model in the path and `anthropic_version: "vertex-2023-10-16"`
 * in the body instead of `model`, and Gemini's generateContent as on the Gemini API.
 * @module
 */

/** The parts of a Vertex publisher-model path. */
export interface VertexPath {
  publisher: string;
  model: string;
  method: string;
  project: string | null;
  location: string | null;
}

const VERTEX_PATH =
  /^\/(?:v1|v1beta1)(?:\/projects\/([^/]+)\/locations\/([^/]+))?\/publishers\/([^/]+)\/models\/([^/:]+):([A-Za-z]+)$/;

/** Parses a Vertex publisher-model path, or `undefined` for any other path. */
export function parseVertexPath(pathname: string): VertexPath | undefined {
  const match = VERTEX_PATH.exec(pathname);
  if (!match) return undefined;
  return {
    project: match[1] ? decodeURIComponent(match[1]) : null,
    location: match[2] ? decodeURIComponent(match[2]) : null,
    publisher: match[3],
    model: decodeURIComponent(match[4]),
    method: match[5],
  };
}

/** The `anthropic_version` Vertex requires in a Claude request body. */
export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

/** Whether `path` asks a Vertex Claude model for an answer (not the count-tokens model). */
export function isVertexClaudeCall(path: VertexPath): boolean {
  return path.publisher === "anthropic" && path.model !== "count-tokens" &&
    (path.method === "rawPredict" || path.method === "streamRawPredict");
}
