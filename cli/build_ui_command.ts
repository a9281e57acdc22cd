/**
 * `recondo build-ui` (`deno task build`): builds the UI's islands bundle into `static/build/` without
 * starting the gateway. Container images run it at build time so nothing is bundled (or fetched) at start;
 * `serve` reuses a bundle built from the same sources and only builds one when it is missing.
 * @module
 */
import { buildUiBundle } from "../ui/app.ts";
import type { CommandModule } from "./yargs.ts";

interface BuildUiArgs {
  json: boolean;
}

export const buildUiCommand: CommandModule<object, BuildUiArgs> = {
  command: "build-ui",
  describe: "Build the UI's islands bundle into static/build/ (done at image build time)",
  builder: (y) => y.option("json", { type: "boolean", default: false, describe: "Print JSON" }),
  async handler(args) {
    const bundle = await buildUiBundle();
    if (args.json) console.log(JSON.stringify({ path: bundle.path, file: bundle.file, bytes: bundle.bytes }));
    else console.log(`${bundle.file} (${bundle.bytes} bytes), served as ${bundle.path}`);
  },
};
