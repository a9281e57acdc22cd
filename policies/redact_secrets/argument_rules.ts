/**
 * Argument-position rules of `redact-secrets`: secrets an agent passes to a shell command, which carry no
 * vendor prefix the format rules could anchor on. The position says "this is a secret" (`--token X`,
 * `-p X`, `mysql -pX`, `-u user:X`, `API_TOKEN=X cmd`, `-H 'X-Api-Key: X'`, `https://X@host`); the value
 * must then look like one (`isSecretArgument`): long enough, not a word, number, path, hash, UUID or
 * reference to a variable. Weak positions (`-p`, which is also a port, a project, a package) ask more of
 * the value.
 *
 * On by default; `{ "arguments": false }` turns the whole group off.
 * @module
 */
import { shannonEntropy } from "./entropy.ts";
import { NOT_SECRET_NAME } from "./names.ts";
import type { RuleSpec } from "./rules.ts";

/** Rule ids of this group, for docs and tests. */
export const ARGUMENT_RULE_IDS = [
  "cli-secret-flag",
  "cli-password-flag",
  "env-secret-assignment",
  "http-header-credential",
  "url-userinfo-token",
] as const;

// A value: bare (shell word without quoting or expansion), or between quotes (also JSON-escaped ones, `\"`,
// when a command travels inside text that was not parsed). Whitespace never: a passphrase with spaces is
// rare next to descriptions and prompts (`read -p "Enter password: "`).
const BARE = "[^\\s\"'`$<>{}\\[\\]\\\\;,()|&]{8,300}";
const QUOTED = "[^\\s\"'`$\\\\]{8,300}";
/** After a bare value: the end of the shell word. */
const WORD_END = '(?=[\\s"\'`;|&)]|\\\\[nrt"]|$)';
/** The value of an argument in its three spellings, as one alternation (one pass over the text). */
function value(prefix: string): string {
  return `${prefix}(?:\\\\?"(?<secret>${QUOTED})\\\\?"|'(?<secret>${QUOTED})'|(?<secret>${BARE})${WORD_END})`;
}

/** Words that end a long flag naming a secret: `--token`, `--db-password`, `--aws-secret-access-key`. */
const FLAG_WORD =
  "(?:token|password|passwd|pass|pwd|passphrase|secret|api-?key|apikey|access-?key|secret-?key|private-?key|credentials?)";
const SEPARATOR = "(?:[ \\t]*=[ \\t]*|[ \\t]+)";

/** Names of HTTP headers that carry a credential. */
const HEADER =
  "(?:proxy-)?authorization|x-api-key|api-key|apikey|x-auth-token|x-access-token|private-token|x-goog-api-key|x-api-token|api-token|x-auth-key|x-token";

/** Env names that hold a secret (the list); `NOT_SECRET_NAME` then drops `TOKEN_FILE`, `MAX_TOKENS`. */
const ENV_WORD = "(?:secret|token|password|passwd|api_?key|access_key|private_key|credentials?)";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What may stand before `NAME=`: a shell word boundary, `export `, `env `, `--from-literal=`, npmrc's `:`. */
const ENV_BEFORE = /(?:^|[\s;&|(`"'=,:])$/;

const HEX_DIGEST = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `$TOKEN`, `%TOKEN%`, `${X}`, `$(cat f)`, `{{ x }}`, `<token>`, `***`, `xxxx`, `...`, and doc words. */
const NOT_A_VALUE =
  /^[$%]|\$[({]|\{\{|<[^>]*>|\*{3}|xxxx|\.{3}|•|example|placeholder|your[_-]|redacted|changeme|replace[_-]?me|:\/\//i;
/** `/etc/x`, `./x`, `../x`, `~/x`, `C:\x`, `src/app/main` (lower-case segments), `tsconfig.json`. */
const PATH =
  /^(?:~|\.{1,2})?\/|^[A-Za-z]:\\|^[a-z0-9_.-]+(?:\/[a-z0-9_.-]+)+\/?$|^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.[a-z]{1,5}$/;
/** Numbers, ports, addresses, versions, dates: `8080`, `127.0.0.1:5432:5432`, `v1.2.3`, `2026-01-02`. */
const NUMERIC = /^v?[\d.:/_-]+$/i;
/** Letters only (with separators): words and identifiers (`recondo-core`, `MyProject`, `no:cache`). */
const WORDS = /^[A-Za-z]+(?:[-_.:][A-Za-z]+)*$/;
/** Lower-case words joined by separators, digits at their ends: names (`h2-server`, `prod-db-v2`). */
const IDENTIFIER = /^[a-z]+\d*(?:[-_.:][a-z]+\d*)+$/;
/** `key=value` specs (`docker build --secret id=npm,src=…`): a lower-case name, then `=`. */
const SPEC = /^[a-z_]+=/;

/**
 * Whether a value in an argument position is a secret. `weak` asks more: at least three character
 * classes, or a long high-entropy value that is not a name.
 *
 * @example
 * isSecretArgument("Tr0ub4dor-9xq");          // true
 * isSecretArgument("8080");                   // false (a port)
 * isSecretArgument("tsconfig.json", true);    // false (a file)
 */
export function isSecretArgument(value: string, weak = false): boolean {
  if (value.length < 8 || value.length > 300) return false;
  if (NOT_A_VALUE.test(value) || value.startsWith("[REDACTED:")) return false;
  if (HEX_DIGEST.test(value) || UUID.test(value) || PATH.test(value) || NUMERIC.test(value)) return false;
  if (SPEC.test(value)) return false;
  const entropy = shannonEntropy(value);
  if (WORDS.test(value)) return value.length >= 24 && entropy >= 4;
  if (IDENTIFIER.test(value)) return false;
  if (entropy < Math.min(3, Math.log2(value.length) - 0.5)) return false;
  if (!weak) return true;
  const classes = Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/\d/.test(value)) +
    Number(/[^A-Za-z0-9\-_.:/]/.test(value));
  if (classes >= 3) return true;
  return classes === 2 && value.length >= 16 && entropy >= 3.5;
}

function strongValue(secret: string, match: RegExpExecArray): boolean {
  return isSecretArgument(secret, match.groups?.weak !== undefined);
}

/**
 * `API_TOKEN=…`: the match starts at `=` and `name` runs back to the keyword; the whole name (`STRIPE_` +
 * `API_KEY`) must be a shell variable name standing at a word boundary.
 */
function envAssignment(secret: string, match: RegExpExecArray): boolean {
  const keywordAt = match.index - (match.groups?.name ?? "").length;
  let start = keywordAt;
  while (start > 0 && /[A-Za-z0-9_]/.test(match.input[start - 1])) start--;
  const name = match.input.slice(start, match.index);
  return ENV_NAME.test(name) && !NOT_SECRET_NAME.test(name) &&
    ENV_BEFORE.test(match.input.slice(Math.max(0, start - 1), start)) && isSecretArgument(secret);
}

/** The group, in the order they win ties; all after the format rules, so a known format keeps its id. */
export const ARGUMENT_RULES: readonly RuleSpec[] = [
  {
    id: "cli-secret-flag",
    description:
      "A secret after a flag that names one: `--token X`, `--db-password=X`, `--api-key 'X'`, keytool `-storepass X`, openssl `-passin pass:X`",
    patterns: [
      value(`--(?<![\\w-]--)(?:[a-z0-9]+-){0,4}${FLAG_WORD}${SEPARATOR}`),
      value(
        `-(?<![\\w-]-)(?:storepass|keypass|srcstorepass|deststorepass|srckeypass|destkeypass|password|passwd)[ \\t]+`,
      ),
      value(`-(?<![\\w-]-)pass(?:in|out)?[ \\t]+["']?pass:`),
    ],
    flags: "i",
    keywords: ["token", "pass", "pwd", "secret", "key", "credential"],
    validate: strongValue,
    group: "arguments",
  },
  {
    id: "cli-password-flag",
    description:
      "A password after a short flag: `-p X` (a strong value only: `-p` is also a port or a project), `mysql -pX`, `-u user:X`, `--user user:X`",
    patterns: [
      value(`-(?<![\\w-]-)p(?<weak>)[ \\t]+`),
      value(
        `\\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mariadb(?:-dump|-admin)?)\\b[^\\n|;&]{0,200}?(?<![\\w-])-p`,
      ),
      value(
        `-(?<![\\w-]-)(?:[uaU]|-(?:user|auth|basic-auth|proxy-user|server-user))(?:[ \\t]*=[ \\t]*|[ \\t]*)["']?[^\\s:"'@/$]{1,64}:`,
      ),
    ],
    keywords: [" -p", "\t-p", "-u", "-a", "--user", "--auth", "--basic-auth", "--proxy-user"],
    validate: strongValue,
    group: "arguments",
  },
  {
    id: "env-secret-assignment",
    description:
      "A secret-named environment variable set inline: `AWS_SECRET_ACCESS_KEY=X cmd`, `export X_TOKEN=X`",
    // Found from the `=` (a fast literal scan) and checked backwards for the name.
    patterns: [value(`=(?<=(?<name>${ENV_WORD}[A-Za-z0-9_]{0,60})=)`)],
    flags: "i",
    keywords: [
      "secret",
      "token",
      "password",
      "passwd",
      "api_key",
      "apikey",
      "access_key",
      "private_key",
      "credential",
    ],
    validate: envAssignment,
    group: "arguments",
  },
  {
    id: "http-header-credential",
    description:
      "A credential in an HTTP header given to curl/httpie/wget: `-H 'Authorization: Bearer X'`, `X-Api-Key:X`, `--header=Private-Token: X`",
    patterns: [value(
      `(?<![\\w/.:@-])(?:${HEADER})\\\\?["']?[ \\t]*:[ \\t]*(?:\\\\?["'])?(?:(?:bearer|token|basic|apikey|key)[ \\t]+)?`,
    )],
    flags: "i",
    keywords: ["authorization", "api-key", "apikey", "token", "auth-key"],
    validate: strongValue,
    group: "arguments",
  },
  {
    id: "url-userinfo-token",
    description: "A token as a URL's whole user info: `git clone https://X@github.com/org/repo`",
    patterns: [
      `\\b(?:https?|git\\+https?|ssh)://(?<weak>)(?<secret>[A-Za-z0-9_~+=-]{16,200})@[A-Za-z0-9.-]+`,
    ],
    flags: "i",
    keywords: ["://"],
    validate: strongValue,
    group: "arguments",
  },
];
