/**
 * `recondo user add <name> --role admin|viewer`: creates or resets a UI account. The password is read
 * from stdin (first line) so it never lands in shell history or `ps`; `--password-stdin` says so
 * explicitly for scripts, and is the only mode. Uses the database named by `RECONDO_STORE`.
 * @example printf '%s\n' "$PASSWORD" | deno task recondo user add ana --role admin --password-stdin
 * @module
 */
import { dataDir, dataPaths } from "../config/paths.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { upsertUser } from "../storage/ui/users.ts";
import { BOOTSTRAP_USER } from "../ui/auth.ts";
import { hashPassword } from "../ui/password.ts";
import type { CommandModule } from "./yargs.ts";

interface UserArgs {
  action: string;
  name: string;
  role: "admin" | "viewer";
  passwordStdin?: boolean;
}

/** Reads the first line of stdin. */
async function readPassword(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.split(/\r?\n/)[0];
}

export const userCommand: CommandModule<Record<string, unknown>, UserArgs> = {
  command: "user <action> <name>",
  describe: "Manage UI accounts: `user add <name> --role admin|viewer` (password on stdin)",
  builder: (y) =>
    y
      .positional("action", { type: "string", choices: ["add"], describe: "add (creates or resets)" })
      .positional("name", { type: "string", describe: "Account name" })
      .option("role", {
        choices: ["admin", "viewer"] as const,
        default: "viewer" as const,
        describe: "What the account may do",
      })
      .option("password-stdin", {
        type: "boolean",
        describe: "Read the password from stdin (the default)",
      }) as never,
  async handler(args) {
    const name = String(args.name);
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name) || name === BOOTSTRAP_USER) {
      console.error(
        `recondo: an account name is 1–64 letters, digits or ._@- and not "${BOOTSTRAP_USER}", got "${name}"`,
      );
      Deno.exit(2);
    }
    if (Deno.stdin.isTerminal()) console.error("Password (at least 8 characters), then Enter:");
    const password = await readPassword();
    if (password.length < 8) {
      console.error(`recondo: the password on stdin must have at least 8 characters, got ${password.length}`);
      Deno.exit(2);
    }
    const db = await openDatabase(dataPaths(dataDir()), Deno.env);
    try {
      const result = await upsertUser(db, {
        name,
        role: args.role,
        passwordHash: await hashPassword(password),
      });
      console.log(`${result === "created" ? "Created" : "Updated"} UI account "${name}" (${args.role})`);
    } finally {
      await db.close();
    }
  },
};
