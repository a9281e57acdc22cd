/**
 * The detection rules of `redact-secrets`, as data.
 *
 * Derived from the gitleaks default rule set (https://github.com/gitleaks/gitleaks, `config/gitleaks.toml`,
 * MIT License, Copyright (c) 2019 Zachary Rice): the token formats, prefixes, lengths, keywords, entropy
 * floors and allowlists are gitleaks'; the patterns are re-expressed for JavaScript (no inline `(?i)`, a
 * named `secret` group marks what is replaced, boundaries suited to decoded JSON strings rather than raw
 * files, bounded repetitions). Rules not in gitleaks (database URLs, URL credentials, connection strings,
 * authorization headers, secret-named assignments in .env/shell/YAML/code/SQL, AWS secret keys and session
 * tokens next to their names) are ours, written in the same style.
 *
 * Why gitleaks rather than the secretlint presets: gitleaks' rules are data (regex + keywords + entropy),
 * so they compile into one scanner with a shared keyword prefilter that reports exact spans, which is what
 * a redactor needs; secretlint's rules are per-rule JavaScript modules built around its file-linting
 * engine and messages, with fewer providers covered. Keeping the rules here as data also lets each rule
 * carry an action (`redact`/`block`/`observe`) and be disabled by id.
 *
 * High precision first: every default rule is anchored on a vendor prefix or a structure (PEM armour,
 * `scheme://user:pass@`, a secret-named assignment, a secret-named command-line argument whose value must
 * also look like a secret). The free-form entropy rule is off by default.
 * @module
 */

import { NOT_SECRET_NAME, PLACEHOLDER_VALUE, SECRET_NAME } from "./names.ts";
import { ARGUMENT_RULES } from "./argument_rules.ts";

export { NOT_SECRET_NAME, PLACEHOLDER_VALUE, SECRET_NAME };

/** One rule. Patterns compile once (in `compileRules`); `secret` names the replaced part. */
export interface RuleSpec {
  id: string;
  description: string;
  /** JavaScript regex sources; a named group `secret` marks the part to replace, else the whole match. */
  patterns: string[];
  /** Extra flags besides `g` and `d`, e.g. `i`, `m`. */
  flags?: string;
  /** Lower-case literals, one of which must appear in the text for the rule to run (gitleaks' keywords). */
  keywords: string[];
  /** Minimum Shannon entropy (bits per character) of the secret; filters placeholders like `AKIAXXXX…`. */
  minEntropy?: number;
  /** Secrets matching any of these are not secrets (gitleaks' per-rule allowlists). */
  allow?: RegExp[];
  /** A structural check on the secret (e.g. a JWT header that decodes to JSON). */
  validate?: (secret: string, match: RegExpExecArray) => boolean;
  /** Off unless enabled by the options (the entropy rule). */
  optIn?: boolean;
  /** A group the options turn off as a whole: `arguments` (`argument_rules.ts`, on by default). */
  group?: "arguments";
}

// A token must not continue into more token characters (gitleaks' trailing `[\x60'"\s;]|$`, generalised).
const END = "(?![A-Za-z0-9_-])";
const START = "(?<![A-Za-z0-9_-])";

/** URL passwords that are documentation placeholders (`user:password@`, `:${PASS}@`, `:<pw>@`). */
const URL_PASSWORD_PLACEHOLDER =
  /^(?:password|passwd|pass|pwd|secret|changeme|example|x+|\*+|\$\{?\w+\}?|<[^>]*>|\{\{.*\}\}|%\(.*\)s|\[.*\])$/i;

// Names are bounded so a long identifier-like run (minified code, base64) cannot make matching quadratic.
const NAME = `[A-Za-z0-9_.-]{0,60}?${SECRET_NAME}[A-Za-z0-9_.-]{0,60}`;
const VALUE = "[^\\s\"'`$<>{}\\[\\]\\\\;,()|&]{8,300}";

/** Whether a JWT segment decodes to a JSON object (its header does, always). */
function jwtHeaderIsJson(secret: string): boolean {
  const header = secret.slice(0, secret.indexOf("."));
  try {
    const text = atob(
      header.replaceAll("-", "+").replaceAll("_", "/").padEnd(Math.ceil(header.length / 4) * 4, "="),
    );
    return /^\s*\{\s*"/.test(text) && /"(?:alg|typ|kid|enc)"/.test(text);
  } catch {
    return false;
  }
}

/** The identifier characters just before a match (`client_` in `client_secret`). */
function nameBefore(match: RegExpExecArray): string {
  let start = match.index;
  while (start > 0 && /[A-Za-z0-9_.-]/.test(match.input[start - 1])) start--;
  return match.input.slice(start, match.index);
}

function hasClass(secret: string): boolean {
  return /[A-Z]/.test(secret) && /[a-z]/.test(secret) && /\d/.test(secret);
}

/** The shipped rules, most specific first (on overlapping spans the earlier rule wins). */
export const RULES: readonly RuleSpec[] = [
  {
    id: "private-key",
    description: "PEM private key block (also a truncated one)",
    // The END search is bounded (4 KB) so many unterminated headers stay cheap; a longer key is still
    // covered whole by the second branch, which runs over the base64 and takes the END line when present.
    patterns: [
      "-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\\s\\S]{64,4096}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|(?:[A-Za-z0-9+/=:,\\s]|-(?!----END)|\\\\[nr]){64,}(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)?)",
    ],
    keywords: ["-----begin"],
  },
  {
    id: "aws-access-key",
    description: "AWS access key id",
    patterns: [`\\b(?<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\\b`],
    keywords: ["a3t", "akia", "asia", "abia", "acca"],
    minEntropy: 3,
    allow: [/EXAMPLE$/],
  },
  {
    id: "aws-secret-key",
    description: "AWS secret access key next to its name",
    patterns: [
      `(?<![A-Za-z0-9])(?:aws[_-]?)?secret[_-]?(?:access[_-]?)?key["']?[ \\t]*(?::|=>|=)[ \\t]*["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    ],
    flags: "i",
    keywords: ["secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "secret_key"],
    minEntropy: 3.5,
    allow: [/EXAMPLEKEY$/],
  },
  {
    id: "aws-session-token",
    description: "AWS session token next to its name",
    patterns: [
      `(?:aws[_-]?)?session[_-]?token["']?[ \\t]*(?::|=)[ \\t]*["']?(?<secret>[A-Za-z0-9/+=]{100,})`,
    ],
    flags: "i",
    keywords: ["session_token", "sessiontoken", "session-token"],
    minEntropy: 4,
  },
  {
    id: "github-token",
    description: "GitHub personal, OAuth, app, refresh and fine-grained tokens",
    patterns: [`\\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\\w{82})${END}`],
    keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    minEntropy: 3,
  },
  {
    id: "gitlab-token",
    description: "GitLab personal, deploy, runner, trigger and other tokens",
    patterns: [
      `\\bgl(?:pat|dt|rt|ptt|ft|cbt|oas|imt|agent|soat|ffct)-[0-9A-Za-z_-]{20,300}(?:\\.[0-9a-z]{9})?${END}`,
    ],
    keywords: [
      "glpat-",
      "gldt-",
      "glrt-",
      "glptt-",
      "glft-",
      "glcbt-",
      "gloas-",
      "glimt-",
      "glagent-",
      "glsoat-",
    ],
    minEntropy: 3,
  },
  {
    id: "slack-token",
    description: "Slack bot, user, app, config and legacy tokens",
    patterns: [
      `\\bxox[bpeoasr]-[0-9]{8,14}-[A-Za-z0-9-]{8,}`,
      `\\bxox[ar]-(?:\\d-)?[0-9a-zA-Z]{8,48}${END}`,
      `\\bxapp-\\d-[A-Z0-9]+-\\d+-[a-z0-9]+`,
      `\\bxoxe(?:\\.xox[bp])?-\\d-[A-Za-z0-9]{140,170}`,
    ],
    keywords: ["xoxb-", "xoxp-", "xoxe", "xoxo-", "xoxs-", "xoxa-", "xoxr-", "xapp-"],
    minEntropy: 2,
  },
  {
    id: "slack-webhook",
    description: "Slack incoming webhook URL",
    patterns: [`(?:https?://)?hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}`],
    keywords: ["hooks.slack.com"],
  },
  {
    id: "stripe-key",
    description: "Stripe secret and restricted keys",
    patterns: [`\\b(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,99}${END}`],
    keywords: ["sk_live", "sk_test", "sk_prod", "rk_live", "rk_test", "rk_prod"],
    minEntropy: 2,
  },
  {
    id: "anthropic-api-key",
    description: "Anthropic API, admin and OAuth keys",
    patterns: [`\\bsk-ant-[a-z]{2,6}\\d{2}-[A-Za-z0-9_-]{32,}`],
    keywords: ["sk-ant-"],
    minEntropy: 3,
  },
  {
    id: "openai-api-key",
    description: "OpenAI project, service-account, admin and legacy keys",
    patterns: [
      `\\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}`,
      `\\bsk-[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}`,
      `\\bsk-[A-Za-z0-9]{32,64}${END}`,
    ],
    keywords: ["sk-"],
    minEntropy: 3.5,
    validate: (secret) => !/^sk-[A-Za-z0-9]+$/.test(secret) || hasClass(secret),
  },
  {
    id: "google-api-key",
    description: "Google (GCP, Gemini, Firebase) API key",
    patterns: [`\\bAIza[\\w-]{35}${END}`],
    keywords: ["aiza"],
    minEntropy: 3.5,
    allow: [/^AIzaSyabcdefghijklmnopqrstuvwxyz1234567$/],
  },
  {
    id: "google-oauth-secret",
    description: "Google OAuth client secret",
    patterns: [`\\bGOCSPX-[A-Za-z0-9_-]{28}${END}`],
    keywords: ["gocspx-"],
    minEntropy: 3,
  },
  {
    id: "ai-provider-key",
    description: "Other AI provider keys: Groq, xAI, Perplexity, Hugging Face, Replicate",
    patterns: [
      `\\b(?:gsk_[A-Za-z0-9]{52}|xai-[A-Za-z0-9]{80}|pplx-[A-Za-z0-9]{48}|hf_[A-Za-z]{34}|r8_[A-Za-z0-9]{37})${END}`,
    ],
    keywords: ["gsk_", "xai-", "pplx-", "hf_", "r8_"],
    minEntropy: 3,
  },
  {
    id: "package-registry-token",
    description: "npm, PyPI and RubyGems publish tokens",
    patterns: [`\\b(?:npm_[A-Za-z0-9]{36}|pypi-AgEIcHlwaS5vcmc[\\w-]{50,1000}|rubygems_[a-f0-9]{48})${END}`],
    keywords: ["npm_", "pypi-ageichlwas5vcmc", "rubygems_"],
    minEntropy: 2,
  },
  {
    id: "saas-token",
    description:
      "Prefixed SaaS tokens: SendGrid, Shopify, DigitalOcean, Databricks, Linear, Sentry, Grafana, Postman, Pulumi, Doppler, Atlassian, Notion, Heroku, age",
    patterns: [
      `\\b(?:SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|do[opr]_v1_[a-f0-9]{64}|dapi[a-f0-9]{32}(?:-\\d)?|lin_api_[A-Za-z0-9]{40}|sntry[us]_[A-Za-z0-9+/=_]{40,}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,3}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|pul-[a-f0-9]{40}|dp\\.pt\\.[A-Za-z0-9]{43}|ATATT3[A-Za-z0-9_=-]{186}|ntn_[0-9]{11}[A-Za-z0-9]{35}|HRKU-AA[0-9a-zA-Z_-]{58}|AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})${END}`,
    ],
    keywords: [
      "sg.",
      "shpat_",
      "shpca_",
      "shppa_",
      "shpss_",
      "_v1_",
      "dapi",
      "lin_api_",
      "sntry",
      "glsa_",
      "glc_",
      "pmak-",
      "pul-",
      "dp.pt.",
      "atatt3",
      "ntn_",
      "hrku-aa",
      "age-secret-key-1",
    ],
    minEntropy: 3,
  },
  {
    id: "twilio-api-key",
    description: "Twilio API key",
    patterns: [`\\bSK[0-9a-fA-F]{32}${END}`],
    keywords: ["sk"],
    minEntropy: 3,
  },
  {
    id: "azure-storage-key",
    description: "Azure storage account key in a connection string",
    patterns: [`AccountKey=(?<secret>[A-Za-z0-9+/]{86}==)`],
    keywords: ["accountkey="],
    minEntropy: 4,
  },
  {
    id: "jwt",
    description: "JSON Web Token (header must decode to a JOSE header)",
    patterns: [`\\beyJ[A-Za-z0-9_-]{15,}\\.eyJ[A-Za-z0-9_-]{15,}\\.[A-Za-z0-9_-]{10,}={0,2}${END}`],
    keywords: ["eyj"],
    minEntropy: 3,
    validate: jwtHeaderIsJson,
  },
  {
    id: "database-url",
    description: "Password in a database connection URL",
    patterns: [
      `\\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse|couchbases?|neo4j(?:\\+s)?|snowflake|jdbc:[a-z]+)://[^\\s:/@'"]{0,100}:(?<secret>[^\\s/@'"]{3,200})@[^\\s/@'"]`,
    ],
    flags: "i",
    keywords: ["://"],
    allow: [URL_PASSWORD_PLACEHOLDER],
  },
  {
    id: "url-credentials",
    description: "Password or token in an http(s)/ftp/smtp URL's user info",
    patterns: [
      `\\b(?:https?|ftps?|sftp|smtps?|ldaps?|git\\+https?|ssh)://[^\\s:/@'"]{1,100}:(?<secret>[^\\s/@'"]{6,200})@[A-Za-z0-9.-]+`,
    ],
    flags: "i",
    keywords: ["://"],
    allow: [URL_PASSWORD_PLACEHOLDER],
  },
  {
    id: "connection-string-password",
    description: "Password in an ADO/ODBC/JDBC-style connection string (`…;Password=…;`)",
    patterns: [
      `(?:^|[;"'\\s])(?:password|pwd)[ \\t]*=[ \\t]*(?<secret>[^;'"\\s{}$<>]{4,200})(?=;|["']|\\s|$)`,
    ],
    flags: "i",
    keywords: ["password=", "pwd=", "password =", "pwd ="],
    // Only inside a connection string: a `;`-separated list of settings around it.
    validate: (secret, match) =>
      /[;]/.test(match.input.slice(Math.max(0, match.index - 200), match.index + match[0].length + 200)) &&
      !PLACEHOLDER_VALUE.test(secret),
  },
  {
    id: "authorization-header",
    description: "Bearer/Basic/token credentials after an Authorization header name",
    patterns: [
      `\\b(?:proxy-)?authorization["']?[ \\t]*[:=][ \\t]*["']?(?:bearer|token|basic)[ \\t]+(?<secret>[A-Za-z0-9._~+/=-]{16,})`,
    ],
    flags: "i",
    keywords: ["authorization"],
    minEntropy: 3,
  },
  {
    id: "secret-assignment",
    description: "A secret-named variable assigned a literal (.env, shell, YAML, code, JSON text)",
    patterns: [
      // Line style: `.env`, shell `export`, YAML/INI; the value runs to the end of the line.
      `^[+-]?[ \\t]*(?:export[ \\t]+|set[ \\t]+)?["']?(?<name>${NAME})["']?[ \\t]*[=:][ \\t]*(?<q>["']?)(?<secret>${VALUE})\\k<q>[ \\t]*(?=\\r?\\n|$|&&)`,
      // Literal style anywhere: `apiKey: "…"`, `password="…"`, `"client_secret": "…"`.
      // Command-line style: `docker run -e DB_PASSWORD=…`, `--build-arg NPM_TOKEN=…`, `helm --set db.password=…`.
      `(?:-e|--env|--build-arg|--set(?:-string)?)[ =]["']?(?<name>${NAME})=(?<secret>${VALUE})`,
      // SQL: `CREATE USER … WITH PASSWORD '…'`, `IDENTIFIED BY '…'`.
      `\\b(?:identified[ \\t]+by|with[ \\t]+(?:encrypted[ \\t]+)?password)[ \\t]+'(?<secret>[^'\\s]{6,200})'`,
      // It starts at the keyword (fast); \`nameBefore\` recovers the rest of the name for the checks.
      `(?<name>${SECRET_NAME}[A-Za-z0-9_.-]{0,60})["']?[ \\t]*(?::=|=>|=|:)[ \\t]*(?<q>["'\`])(?<secret>${VALUE})\\k<q>`,
    ],
    flags: "im",
    keywords: [
      "identified",
      "password",
      "passwd",
      "passphrase",
      "pwd",
      "secret",
      "token",
      "api_key",
      "api-key",
      "apikey",
      "access_key",
      "access-key",
      "accesskey",
      "private_key",
      "privatekey",
      "auth_key",
      "credential",
    ],
    minEntropy: 2.8,
    validate: (secret, match) =>
      !NOT_SECRET_NAME.test(nameBefore(match) + (match.groups?.name ?? "")) &&
      !PLACEHOLDER_VALUE.test(secret),
  },
  // Secrets in shell-argument positions, with no vendor prefix (argument_rules.ts).
  ...ARGUMENT_RULES,
  {
    id: "high-entropy-string",
    description: "Any long mixed-case alphanumeric run with high entropy (opt-in: noisy on real traffic)",
    patterns: [`${START}(?<secret>[A-Za-z0-9+/_-]{32,256}={0,2})(?![A-Za-z0-9+/=_-])`],
    keywords: [],
    minEntropy: 4.5,
    validate: (secret) => hasClass(secret) && !/^[0-9a-f]+$/i.test(secret),
    optIn: true,
  },
];
