/**
 * Gemini request bodies (`contents`, `systemInstruction`, `tools`, `generationConfig`), and Code Assist's,
 * which wrap them as `{ model, project, user_prompt_id, request: {..., session_id} }`. The model of a plain
 * Gemini request is in the URL (`ApiMatch.pathModel`), not the body. The turn's new content is what follows
 * the last `model` content: user text (Gemini CLI's `<session_context>` skipped) and function responses.
 * @module
 */
import { arr, type Json, obj, str } from "./_json.ts";
import { contentText, emptyRequest, joinTexts, stripPreamble, tokenLimit } from "./_request_common.ts";
import type { ParsedRequest } from "./types.ts";

/** Parses a Gemini or Code Assist request body; `stream` comes from the method in the URL. */
export function parseGoogleRequest(body: Json, stream: boolean, codeAssist: boolean): ParsedRequest {
  const inner = codeAssist ? obj(body.request) ?? {} : body;
  const request = emptyRequest();
  request.stream = stream;
  if (codeAssist) {
    request.model = str(body.model);
    request.sessionHints.sessionId = str(inner.session_id);
  }
  const system = inner.systemInstruction;
  request.system = typeof system === "string" ? system : joinTexts([contentText(obj(system)?.parts)], "\n\n");
  request.toolsOffered = toolNames(inner.tools);
  request.maxOutputTokens = tokenLimit(obj(inner.generationConfig)?.maxOutputTokens);
  const contents = arr(inner.contents).map((c) => obj(c) ?? {});
  request.messageCount = contents.length;
  let turnStart = 0;
  contents.forEach((content, index) => {
    if (str(content.role) === "model") turnStart = index + 1;
  });
  const texts: string[] = [];
  for (const content of contents.slice(turnStart)) {
    for (const value of arr(content.parts)) {
      const part = obj(value);
      if (!part || part.thought === true) continue;
      const text = str(part.text);
      if (text !== null) texts.push(stripPreamble(text));
      const answer = obj(part.functionResponse);
      if (answer) {
        const response = answer.response;
        request.toolResults.push({
          callId: str(answer.id) ?? str(answer.name) ?? "",
          content: typeof response === "string" ? response : JSON.stringify(response ?? null),
          isError: obj(response)?.error !== undefined,
        });
      }
    }
  }
  request.userText = joinTexts(texts);
  return request;
}

/** Function declaration names, and built-in tools (`googleSearch`, `codeExecution`) by their key. */
function toolNames(tools: unknown): string[] {
  const names: string[] = [];
  for (const value of arr(tools)) {
    const tool = obj(value);
    if (!tool) continue;
    for (const [key, entry] of Object.entries(tool)) {
      if (key === "functionDeclarations" || key === "function_declarations") {
        for (const declaration of arr(entry)) {
          const name = str(obj(declaration)?.name);
          if (name) names.push(name);
        }
      } else names.push(key);
    }
  }
  return names;
}
