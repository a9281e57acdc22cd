/**
 * `recondo key-hash`: prints the keyed hash of a provider API key read from stdin, for
 * `developers[].apiKeyHashes` in config. The key itself is never stored or printed.
 * @module
 */
import { hashApiKey, loadOrCreateHmacKey } from "../capture/credentials.ts";
import { dataDir, dataPaths } from "../config/paths.ts";
import type { CommandModule } from "./yargs.ts";

export const keyHashCommand: CommandModule<Record<string, unknown>, Record<string, unknown>> = {
  command: "key-hash",
  describe: "Read a provider API key on stdin and print its keyed hash for developers[].apiKeyHashes",
  async handler() {
    const text = (await new Response(Deno.stdin.readable).text()).trim();
    if (!text) {
      console.error(
        'recondo: key-hash reads an API key on stdin, e.g. `printf %s "$ANTHROPIC_API_KEY" | recondo key-hash`',
      );
      Deno.exit(2);
    }
    const key = await loadOrCreateHmacKey(dataPaths(dataDir()).secretKey);
    console.log(hashApiKey(key, text));
  },
};
