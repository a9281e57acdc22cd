/**
 * Scores `redact-secrets` on `argument_corpus.json`: each command travels in the request position its case
 * names (user text, tool result, Anthropic `tool_use.input`, OpenAI Chat `tool_calls[].function.arguments`,
 * Responses `function_call.arguments`, Gemini `functionCall.args`, or an argv array), and the redacted body
 * is checked. A finding is right only when its keyed hash is a labelled secret's (exact span); a secret is
 * recalled when it was found and no longer appears in the body, however escaped.
 * @module
 */
import { type CompiledRules, compileRules, hmacHasher, redactJsonValue } from "../mod.ts";
import { type ArgumentCase, type Position, POSITIONS } from "./generate_argument_corpus.ts";

export { type ArgumentCase, type Position, POSITIONS };

export interface ArgumentScore {
  cases: number;
  secrets: number;
  recalled: number;
  truePositives: number;
  falsePositives: number;
  precision: number;
  recall: number;
  byPosition: Record<string, { secrets: number; recalled: number; falsePositives: number }>;
  /** Ids of cases with a miss or a false positive. */
  misses: string[];
  falseAlarms: string[];
}

export async function loadArgumentCorpus(): Promise<ArgumentCase[]> {
  return JSON.parse(await Deno.readTextFile(new URL("./argument_corpus.json", import.meta.url)));
}

/** Splits a command as a shell would into words (quotes removed), for the argv position. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | null = null;
  let inWord = false;
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The request body a command travels in. */
export function wrapCommand(position: Position, command: string): unknown {
  switch (position) {
    case "user_text":
      return { model: "claude-sonnet-4-5", messages: [{ role: "user", content: `Please run:\n${command}` }] };
    case "tool_result":
    case "anthropic_tool_use":
      return {
        model: "claude-sonnet-4-5",
        messages: [
          { role: "user", content: "deploy it" },
          {
            role: "assistant",
            content: [{
              type: "tool_use",
              id: "toolu_1",
              name: "Bash",
              input: { command: position === "anthropic_tool_use" ? command : "cat notes.md" },
            }],
          },
          {
            role: "user",
            content: [{
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: position === "tool_result" ? `$ history | tail -1\n  512  ${command}\n` : "ok",
            }],
          },
        ],
      };
    case "openai_chat_tool_call":
      return {
        model: "gpt-4o",
        messages: [{
          role: "assistant",
          tool_calls: [{
            id: "call_1",
            type: "function",
            function: { name: "shell", arguments: JSON.stringify({ command }) },
          }],
        }],
      };
    case "responses_function_call":
      return {
        model: "gpt-5",
        input: [{
          type: "function_call",
          name: "exec_command",
          call_id: "c1",
          arguments: JSON.stringify({ cmd: command, workdir: "/src" }),
        }],
      };
    case "gemini_function_call":
      return {
        contents: [{
          role: "model",
          parts: [{ functionCall: { name: "run_shell_command", args: { command, directory: "." } } }],
        }],
      };
    case "argv":
      return {
        model: "gpt-5",
        input: [{
          type: "function_call",
          name: "shell",
          call_id: "c2",
          arguments: JSON.stringify({ command: shellWords(command) }),
        }],
      };
  }
}

export function scoreArguments(cases: ArgumentCase[], rules: CompiledRules = compileRules()): ArgumentScore {
  const hasher = hmacHasher("argument-corpus");
  const short = (s: string) => hasher(s).slice(0, 8);
  const score: ArgumentScore = {
    cases: cases.length,
    secrets: 0,
    recalled: 0,
    truePositives: 0,
    falsePositives: 0,
    precision: 1,
    recall: 1,
    byPosition: {},
    misses: [],
    falseAlarms: [],
  };
  for (const c of cases) {
    const at = (score.byPosition[c.position] ??= { secrets: 0, recalled: 0, falsePositives: 0 });
    const result = redactJsonValue(wrapCommand(c.position, c.command), rules, { hasher });
    const sent = JSON.stringify(result.value);
    const expected = new Set(c.secrets.map(short));
    for (const f of result.findings) {
      if (expected.has(f.hash)) score.truePositives++;
      else {
        score.falsePositives++;
        at.falsePositives++;
        if (!score.falseAlarms.includes(c.id)) score.falseAlarms.push(c.id);
      }
    }
    const found = new Set(result.findings.map((f) => f.hash));
    for (const s of c.secrets) {
      score.secrets++;
      at.secrets++;
      const escaped = JSON.stringify(s).slice(1, -1);
      const gone = !sent.includes(s) && !sent.includes(escaped) &&
        !sent.includes(JSON.stringify(escaped).slice(1, -1));
      if (found.has(short(s)) && gone) {
        score.recalled++;
        at.recalled++;
      } else if (!score.misses.includes(c.id)) score.misses.push(c.id);
    }
  }
  const findings = score.truePositives + score.falsePositives;
  score.precision = findings === 0 ? 1 : score.truePositives / findings;
  score.recall = score.secrets === 0 ? 1 : score.recalled / score.secrets;
  return score;
}
