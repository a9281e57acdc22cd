/** The form fields generated for a policy module's options (see `routes/_lib/schema_form.ts`). */
export interface FieldView {
  name: string;
  kind: "text" | "number" | "integer" | "boolean" | "enum" | "lines" | "json";
  description?: string;
  choices?: string[];
  min?: number;
  max?: number;
  value: string;
  error?: string;
}

/** Labelled inputs, each with its description and its validation error tied by `aria-describedby`. */
export function SchemaFields(props: { fields: FieldView[]; prefix: string; idPrefix: string }) {
  return (
    <>
      {props.fields.map((f) => {
        const id = `${props.idPrefix}-${f.name || "options"}`;
        const help = f.description ? `${id}-help` : undefined;
        const err = f.error ? `${id}-err` : undefined;
        const describedBy = [help, err].filter(Boolean).join(" ") || undefined;
        const name = props.prefix + f.name;
        const common = {
          id,
          name,
          "aria-describedby": describedBy,
          "aria-invalid": f.error ? true : undefined,
        };
        let input;
        if (f.kind === "boolean") input = <input type="checkbox" {...common} checked={f.value === "true"} />;
        else if (f.kind === "enum") {
          input = (
            <select {...common}>
              {(f.choices ?? []).map((c) => <option key={c} value={c} selected={c === f.value}>{c}</option>)}
            </select>
          );
        } else if (f.kind === "lines" || f.kind === "json") {
          input = <textarea {...common} rows={f.kind === "json" ? 4 : 3}>{f.value}</textarea>;
        } else if (f.kind === "text") {
          input = <input {...common} type="text" value={f.value} />;
        } else {
          input = (
            <input
              {...common}
              type="number"
              step={f.kind === "integer" ? "1" : "any"}
              min={f.min}
              max={f.max}
              value={f.value}
            />
          );
        }
        return (
          <div class={f.error ? "field invalid" : "field"}>
            <label for={id}>
              {f.name || "options (JSON)"}
              {f.kind === "lines"
                ? (
                  <>
                    {" "}
                    <span class="muted">(one per line)</span>
                  </>
                )
                : null}
            </label>
            {input}
            {f.description ? <small id={help}>{f.description}</small> : null}
            {f.error ? <small id={err} class="error" role="alert">{f.error}</small> : null}
          </div>
        );
      })}
    </>
  );
}
