/**
 * Regenerates `argument_corpus.json`: shell commands an agent runs, with FAKE secrets (seeded random, never
 * issued) in argument positions, and look-alikes that must stay (hashes, UUIDs, lockfile lines, paths, ports,
 * words, variable references). Each case names the request position it travels in (`position`), so every
 * template is scored in user text, tool results and each provider's tool-call input.
 *
 *   deno run -A policies/redact_secrets/testdata/generate_argument_corpus.ts
 */
export interface ArgumentCase {
  id: string;
  kind: "positive" | "negative";
  /** What the case exercises (a flag form, a look-alike). */
  category: string;
  position: Position;
  command: string;
  /** Exactly what must be replaced, as the shell would pass it (quotes removed). */
  secrets: string[];
}

export const POSITIONS = [
  "user_text",
  "tool_result",
  "anthropic_tool_use",
  "openai_chat_tool_call",
  "responses_function_call",
  "gemini_function_call",
  "argv",
] as const;
export type Position = typeof POSITIONS[number];

let seed = 0xa59e17;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function pick(alphabet: string, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
}
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
/** A token (alphanumeric, 20–40), an API-style key, a password with symbols, hex, base64: by turn. */
function secret(n: number): string {
  switch (n % 5) {
    case 0:
      return pick(ALNUM, 20 + Math.floor(random() * 20));
    case 1:
      return pick(ALNUM, 6) + "_" + pick(ALNUM, 24);
    case 2:
      return pick("ABCDEFGHJKLMNPQRSTUVWXYZ", 2) + pick("abcdefghijkmnopqrstuvwxyz", 3) +
        pick("23456789", 2) +
        pick("!#%+=@^~", 1) + pick(ALNUM, 4);
    case 3:
      return pick(HEX, 32);
    default:
      return pick(ALNUM + "+/", 40);
  }
}
/** A password a person types: 10–14 characters, all classes, no shell metacharacters. */
function password(): string {
  return pick("ABCDEFGHJKLMNPQRSTUVWXYZ", 1) + pick("abcdefghijkmnopqrstuvwxyz", 4) + pick("23456789", 3) +
    pick("!#%+=@^~", 1) + pick(ALNUM, 3);
}

type Template = (s: string) => { command: string; secrets?: string[] };

const POSITIVE: [string, Template][] = [
  ["long-flag-bare", (s) => ({ command: `./deploy.sh --token ${s} --env production` })],
  ["long-flag-single-quoted", (s) => ({ command: `deploy --token '${s}' --region eu-west-1` })],
  ["long-flag-double-quoted", (s) => ({ command: `deploy --token "${s}" --dry-run` })],
  ["long-flag-equals", (s) => ({ command: `terraform-provider-acme --api-key=${s} --verbose` })],
  ["long-flag-equals-quoted", (s) => ({ command: `acme-cli login --password="${s}"` })],
  [
    "long-flag-password",
    () => passwordCase((p) => `python manage.py createsuperuser --username admin --password ${p}`),
  ],
  ["long-flag-prefixed", (s) => ({ command: `aws configure set --aws-secret-access-key ${s}` })],
  [
    "long-flag-client-secret",
    (s) => ({ command: `az login --service-principal --client-secret ${s} --tenant acme` }),
  ],
  [
    "docker-login-password",
    () => passwordCase((p) => `docker login registry.acme.dev -u ci-bot --password ${p}`),
  ],
  [
    "short-p-sshpass",
    () => passwordCase((p) => `sshpass -p '${p}' ssh deploy@10.20.0.15 'systemctl restart api'`),
  ],
  [
    "short-p-bare",
    () => passwordCase((p) => `az login --service-principal -u 5f1c2d3e -p ${p} --tenant acme.dev`),
  ],
  ["mysql-glued", () => passwordCase((p) => `mysql -h db.internal -u root -p${p} shop -e 'select 1'`)],
  ["mysql-glued-quoted", () => passwordCase((p) => `mysqldump -uadmin -p'${p}' shop > /tmp/shop.sql`)],
  [
    "curl-bearer",
    (s) => ({ command: `curl -sS -H 'Authorization: Bearer ${s}' https://api.acme.dev/v1/jobs` }),
  ],
  [
    "curl-bearer-short",
    () => shortTokenCase((t) => `curl -H "Authorization: Bearer ${t}" https://ci.acme.dev/api`),
  ],
  ["curl-api-key", (s) => ({ command: `curl -X POST -H "X-Api-Key: ${s}" https://api.acme.dev/v2/send` })],
  [
    "curl-private-token",
    (s) => ({ command: `curl --header 'PRIVATE-TOKEN: ${s}' https://gitlab.acme.dev/api/v4/projects` }),
  ],
  ["httpie-header", (s) => ({ command: `http GET https://api.acme.dev/items X-Api-Key:${s}` })],
  [
    "wget-header",
    (s) => ({ command: `wget --header="Authorization: token ${s}" https://git.acme.dev/archive.tgz` }),
  ],
  [
    "curl-basic-user",
    () => passwordCase((p) => `curl -u deploy:${p} https://jenkins.acme.dev/job/api/build`),
  ],
  ["httpie-auth", () => passwordCase((p) => `http -a admin:${p} POST https://api.acme.dev/reset`)],
  ["env-inline", (s) => ({ command: `AWS_SECRET_ACCESS_KEY=${s} aws s3 ls s3://acme-backups` })],
  ["env-inline-two", (s) => ({ command: `NODE_ENV=test STRIPE_API_KEY=${s} npm test` })],
  ["env-export", (s) => ({ command: `export SENTRY_AUTH_TOKEN=${s} && npx sentry-cli releases new 1.4.2` })],
  ["env-export-quoted", () => passwordCase((p) => `export DB_PASSWORD='${p}'; ./migrate up`)],
  ["env-pgpassword", () => passwordCase((p) => `PGPASSWORD=${p} psql -h db.internal -U app -c 'select 1'`)],
  ["env-docker-e", (s) => ({ command: `docker run --rm -e API_TOKEN=${s} acme/worker:1.2` })],
  [
    "env-k8s-literal",
    () => passwordCase((p) => `kubectl create secret generic db --from-literal=password=${p}`),
  ],
  ["env-npmrc", (s) => ({ command: `npm config set //registry.npmjs.org/:_authToken=${s}` })],
  ["env-terraform-var", () => passwordCase((p) => `terraform apply -var "db_password=${p}" -auto-approve`)],
  ["url-database", () => passwordCase((p) => `psql postgres://app:${p}@db.internal:5432/app`)],
  [
    "url-git-userinfo",
    () => passwordCase((p) => `git clone https://ci-bot:${p}@git.acme.dev/platform/api.git`),
  ],
  ["url-git-token", () => tokenCase((t) => `git clone https://${t}@github.com/acme/private.git`)],
  [
    "openssl-pass",
    () => passwordCase((p) => `openssl enc -aes-256-cbc -in backup.tar -out backup.enc -pass pass:${p}`),
  ],
  ["keytool-storepass", () => passwordCase((p) => `keytool -list -keystore release.jks -storepass ${p}`)],
];

function passwordCase(make: (p: string) => string): { command: string; secrets: string[] } {
  const p = password();
  return { command: make(p), secrets: [p] };
}
function tokenCase(make: (t: string) => string): { command: string; secrets: string[] } {
  const t = pick(ALNUM, 24 + Math.floor(random() * 16));
  return { command: make(t), secrets: [t] };
}
function shortTokenCase(make: (t: string) => string): { command: string; secrets: string[] } {
  const t = pick(ALNUM, 12);
  return { command: make(t), secrets: [t] };
}

const sha1 = () => pick(HEX, 40);
const sha256 = () => pick(HEX, 64);
const uuid = () => `${pick(HEX, 8)}-${pick(HEX, 4)}-4${pick(HEX, 3)}-a${pick(HEX, 3)}-${pick(HEX, 12)}`;

const NEGATIVE: [string, () => string][] = [
  ["git-sha", () => `git checkout ${sha1()} && git log -1`],
  ["git-sha-token-flag", () => `gh run rerun --commit ${sha1()}`],
  ["sha256-digest", () => `docker pull acme/api@sha256:${sha256()}`],
  ["sha256-env", () => `export IMAGE_DIGEST=${sha256()}`],
  ["uuid-header", () => `curl -H "X-Request-Id: ${uuid()}" https://api.acme.dev/health`],
  ["uuid-flag", () => `az account set --subscription ${uuid()}`],
  ["uuid-token-named", () => `acme jobs cancel --session-token ${uuid()}`],
  [
    "lockfile-integrity",
    () =>
      `"node_modules/js-tokens": {\n  "version": "4.0.0",\n  "resolved": "https://registry.npmjs.org/js-tokens/-/js-tokens-4.0.0.tgz",\n  "integrity": "sha512-${
        pick(ALNUM + "+/", 86)
      }=="\n}`,
  ],
  [
    "yarn-lock",
    () =>
      `js-tokens@^4.0.0:\n  version "4.0.0"\n  resolved "https://registry.yarnpkg.com/js-tokens/-/js-tokens-4.0.0.tgz#${sha1()}"\n  integrity sha512-${
        pick(ALNUM + "+/", 86)
      }==`,
  ],
  ["base64-blob", () => `base64 logo.png | head -c 120\niVBORw0KGgoAAAANSUhEUgAA${pick(ALNUM + "+/", 96)}`],
  ["path-token-file", () => `acme login --token-file ./secrets/ci-token.txt`],
  ["path-password-file", () => `pg_dump --password-file /run/secrets/db_password shop`],
  ["path-token-value", () => `vault login --token /var/run/secrets/kubernetes.io/serviceaccount/token`],
  ["path-credentials", () => `gcloud auth activate-service-account --credentials ~/keys/ci-sa.json`],
  ["password-stdin", () => `echo "$CR_PAT" | docker login ghcr.io -u octocat --password-stdin`],
  ["port-p", () => `docker run -d -p 8080:80 nginx:1.27`],
  ["port-p-address", () => `docker run -d -p 127.0.0.1:5432:5432 postgres:16`],
  ["port-ssh", () => `ssh -p 2222 deploy@10.20.0.15 uptime`],
  ["port-psql", () => `psql -h db.internal -p 5432 -U app shop`],
  ["mysql-prompt", () => `mysql -h db.internal -u root -p`],
  ["mysql-prompt-db", () => `mysql -u root -p shop < schema.sql`],
  ["mkdir-p", () => `mkdir -p src/components/forms && touch src/components/forms/index.ts`],
  ["cargo-p", () => `cargo test -p recondo-core --release`],
  ["tsc-p", () => `npx tsc -p tsconfig.build.json --noEmit`],
  ["pytest-p", () => `pytest -p no:cacheprovider -q tests/`],
  ["compose-p", () => `docker compose -p acme-staging up -d`],
  ["read-p", () => `read -p "Enter password: " pw && echo done`],
  ["kubectl-patch-p", () => `kubectl patch deploy api -p '{"spec":{"replicas":3}}'`],
  ["go-test-p", () => `go test -p 4 ./...`],
  ["placeholder-var", () => `deploy --token $DEPLOY_TOKEN --env production`],
  ["placeholder-quoted-var", () => `gh auth login --with-token "$GITHUB_TOKEN"`],
  [
    "placeholder-braces",
    () => `curl -H "Authorization: Bearer \${CI_JOB_TOKEN}" https://gitlab.acme.dev/api/v4/user`,
  ],
  [
    "placeholder-subshell",
    () => `curl -H "Authorization: Bearer $(gcloud auth print-access-token)" https://run.app`,
  ],
  ["placeholder-angle", () => `curl -H 'X-Api-Key: <your-api-key>' https://api.acme.dev/v1/items`],
  ["placeholder-stars", () => `mysql -u root -p'********' shop`],
  ["placeholder-x", () => `acme login --password xxxxxxxxxxxx`],
  ["placeholder-doc", () => `export OPENAI_API_KEY=your-api-key-here`],
  ["placeholder-env-ref", () => `MYSQL_PWD=\${DB_PASS} mysql -u app shop`],
  ["placeholder-url", () => `psql postgres://user:password@localhost:5432/app`],
  ["word-token-type", () => `acme auth --token-type bearer --auth-type basic`],
  ["word-secret-name", () => `gcloud secrets create db-password --replication-policy automatic`],
  ["word-secret-flag", () => `gcloud run deploy api --secret prod-db-v2 --region europe-west1`],
  [
    "word-credentials",
    () => `git config --global credential.helper store && acme sync --credentials default`,
  ],
  ["max-tokens", () => `llm -m gpt-5 --max-tokens 4096 'summarise' && MAX_TOKENS=8192 ./eval.sh`],
  ["env-not-secret-name", () => `TOKEN_FILE=/run/token TOKENIZER=cl100k_base SECRET_NAME=db-creds ./run.sh`],
  ["env-version", () => `NODE_VERSION=20.11.1 API_KEY_HEADER=X-Api-Key npm run build`],
  ["docker-secret-spec", () => `docker build --secret id=npmrc,src=$HOME/.npmrc -t acme/api .`],
  ["user-ids", () => `docker run -u 1000:1000 -v "$PWD:/src" node:20 npm ci`],
  ["git-push-u", () => `git push -u origin feature/login-rate-limit`],
  ["git-urls", () => `git clone git@github.com:acme/api.git && git clone https://github.com/acme/web.git`],
  ["ssh-url", () => `git clone ssh://git@git.acme.dev:2222/platform/api.git`],
  [
    "headers-plain",
    () => `curl -H "Content-Type: application/json" -H "Accept: application/json" https://api.acme.dev`,
  ],
  ["prose-flags", () => `Pass your key with --api-key and never commit it; use --token-file for CI.`],
  ["random-output", () => `$ openssl rand -hex 20\n${sha1()}`],
  ["npm-registry", () => `npm install --registry https://registry.npmjs.org/ --prefer-offline`],
];

/** Template i is placed in positions i, i+3 and i+5 (mod 7) for positives, i and i+4 for negatives. */
function generate(): ArgumentCase[] {
  const cases: ArgumentCase[] = [];
  let n = 0;
  POSITIVE.forEach(([category, template], i) => {
    for (const offset of [0, 3, 5]) {
      const s = secret(n++);
      const { command, secrets } = template(s);
      const position = POSITIONS[(i + offset) % POSITIONS.length];
      cases.push({
        id: `p${cases.length + 1}-${category}`,
        kind: "positive",
        category,
        position,
        command,
        secrets: secrets ?? [s],
      });
    }
  });
  NEGATIVE.forEach(([category, make], i) => {
    for (const offset of [0, 4]) {
      const position = POSITIONS[(i + offset) % POSITIONS.length];
      cases.push({
        id: `n${cases.length + 1}-${category}`,
        kind: "negative",
        category,
        position,
        command: make(),
        secrets: [],
      });
    }
  });
  return cases;
}

if (import.meta.main) {
  const path = new URL("./argument_corpus.json", import.meta.url);
  await Deno.writeTextFile(path, JSON.stringify(generate(), null, 2) + "\n");
}
