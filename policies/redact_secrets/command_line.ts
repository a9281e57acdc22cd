/**
 * Command lines given as string arrays (`["mysql", "-u", "root", "-pS3cr3t"]`, Codex's
 * `["bash", "-lc", "…"]`): a flag and its value sit in two strings, so the argument rules read the array
 * joined with spaces, and each finding is mapped back to the string it lies in.
 * @module
 */
import type { Redaction } from "./redact_text.ts";

/** An array read as one command line: the joined text and where each element starts in it. */
export interface CommandLine {
  text: string;
  starts: number[];
}

const MAX_ELEMENTS = 256;
const MAX_CHARS = 65_536;
const ENV_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The array as a command line when it looks like one: 2–256 strings, one of them a flag (`-x`, `--x`) or
 * an assignment (`NAME=…`). Anything else (tool lists, enums, content blocks) is walked element by element.
 */
export function asCommandLine(array: readonly unknown[]): CommandLine | null {
  if (array.length < 2 || array.length > MAX_ELEMENTS) return null;
  let flag = false;
  let chars = 0;
  for (const element of array) {
    if (typeof element !== "string") return null;
    chars += element.length + 1;
    if (chars > MAX_CHARS) return null;
    flag ||= element.charCodeAt(0) === 45 /* - */ || ENV_ASSIGNMENT.test(element);
  }
  if (!flag) return null;
  const starts: number[] = [];
  let at = 0;
  for (const element of array as readonly string[]) {
    starts.push(at);
    at += element.length + 1;
  }
  return { text: (array as readonly string[]).join(" "), starts };
}

/**
 * The findings of the joined text, per element, with positions inside that element; `null` when one
 * crosses from one element into the next (then the caller walks the elements one by one).
 */
export function splitFindings(line: CommandLine, findings: readonly Redaction[]): Redaction[][] | null {
  const out: Redaction[][] = line.starts.map(() => []);
  let element = 0;
  for (const f of findings) {
    while (element + 1 < line.starts.length && line.starts[element + 1] <= f.start) element++;
    const start = line.starts[element];
    const end = element + 1 < line.starts.length ? line.starts[element + 1] - 1 : line.text.length;
    if (f.end > end) return null;
    out[element].push({ ...f, start: f.start - start, end: f.end - start });
  }
  return out;
}
