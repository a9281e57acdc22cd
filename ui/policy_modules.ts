/**
 * The built-in policy modules as the chain editor shows them: each module's zod options schema turned into
 * JSON Schema (zod v4 `z.toJSONSchema`) to generate its form, and the same schema validating a submitted
 * form with messages by field path.
 * @module
 */
import { z } from "zod";
import { BUILT_IN_POLICIES } from "../policies/built_ins.ts";
import type { PolicyModuleInfo } from "../routes/_lib/context.ts";

/** Every built-in module with its options' JSON Schema. */
export function policyModules(): PolicyModuleInfo[] {
  return [...BUILT_IN_POLICIES.values()].map((module) => {
    let jsonSchema: Record<string, unknown>;
    try {
      jsonSchema = z.toJSONSchema(module.options, { io: "input", unrepresentable: "any" }) as Record<
        string,
        unknown
      >;
    } catch {
      jsonSchema = {};
    }
    return { name: module.name, description: module.description, jsonSchema };
  });
}

/** `null` when `options` are valid for module `use` (or it is a user module we cannot check here). */
export function validatePolicyOptions(use: string, options: unknown): Record<string, string> | null {
  const module = BUILT_IN_POLICIES.get(use);
  if (!module) return null;
  const parsed = module.options.safeParse(options ?? {});
  if (parsed.success) return null;
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String).join(".") || "(options)";
    errors[path] ??= issue.message;
  }
  return errors;
}
