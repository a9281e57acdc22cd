/**
 * Forms generated from a policy module's options, by way of the JSON Schema that zod v4 produces
 * (`z.toJSONSchema`): each property becomes a field of a kind the browser can edit without JavaScript, and a
 * submitted form is read back into the options object the module's zod schema then validates.
 * @module
 */

/** One generated field. */
export interface FieldSpec {
  /** Property name in the options object. */
  name: string;
  kind: "text" | "number" | "integer" | "boolean" | "enum" | "lines" | "json";
  description?: string;
  choices?: string[];
  min?: number;
  max?: number;
  default?: unknown;
}

type Schema = Record<string, unknown>;

function kindOf(schema: Schema): Pick<FieldSpec, "kind" | "choices"> {
  const type = schema.type;
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === "string")) {
    return { kind: "enum", choices: schema.enum as string[] };
  }
  if (type === "string") return { kind: "text" };
  if (type === "integer") return { kind: "integer" };
  if (type === "number") return { kind: "number" };
  if (type === "boolean") return { kind: "boolean" };
  if (type === "array" && (schema.items as Schema | undefined)?.type === "string") return { kind: "lines" };
  return { kind: "json" };
}

/** The fields of an object schema, in declaration order; a non-object schema is one JSON field. */
export function fieldsOf(schema: Schema): FieldSpec[] {
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (schema.type !== "object" || !properties) return [{ name: "", kind: "json" }];
  return Object.entries(properties).map(([name, prop]) => ({
    name,
    ...kindOf(prop),
    description: typeof prop.description === "string" ? prop.description : undefined,
    min: typeof prop.minimum === "number" ? prop.minimum : undefined,
    max: typeof prop.maximum === "number" ? prop.maximum : undefined,
    default: prop.default,
  }));
}

/** The text a field shows for `value` (the current option, else its default). */
export function displayValue(field: FieldSpec, value: unknown): string {
  const v = value === undefined ? field.default : value;
  if (v === undefined || v === null) return "";
  if (field.kind === "lines" && Array.isArray(v)) return v.join("\n");
  if (field.kind === "json") return JSON.stringify(v, null, 2);
  return String(v);
}

/**
 * Reads `fields` from a submitted form (inputs named `<prefix><field>`). Empty inputs are left out so the
 * schema's defaults apply; text that is not a number or not JSON is reported by field name.
 */
export function readFields(
  fields: FieldSpec[],
  form: FormData,
  prefix: string,
): { value: Record<string, unknown> | unknown; errors: Record<string, string>; raw: Record<string, string> } {
  const errors: Record<string, string> = {};
  const raw: Record<string, string> = {};
  const value: Record<string, unknown> = {};
  for (const field of fields) {
    const input = form.get(prefix + field.name);
    const text = typeof input === "string" ? input : "";
    raw[field.name] = text;
    if (field.kind === "boolean") {
      value[field.name] = text === "on" || text === "true";
      continue;
    }
    if (text.trim() === "") continue;
    if (field.kind === "number" || field.kind === "integer") {
      const n = Number(text);
      if (!Number.isFinite(n)) errors[field.name] = `Not a number: "${text.slice(0, 40)}"`;
      else value[field.name] = n;
    } else if (field.kind === "lines") {
      value[field.name] = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    } else if (field.kind === "json") {
      try {
        const parsed = JSON.parse(text);
        if (field.name === "") return { value: parsed, errors, raw };
        value[field.name] = parsed;
      } catch (error) {
        errors[field.name || "(options)"] = `Not JSON: ${(error as Error).message}`;
      }
    } else {
      value[field.name] = text;
    }
  }
  return { value, errors, raw };
}
