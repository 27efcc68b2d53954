// Reads one JSON case per line on stdin and prints the reference library's
// verdict for each, one JSON line per case, in order.
//   {"op": "validate", "schema": …}
//   {"op": "compare", "old": …, "new": …}
//   {"op": "verify", "old": …, "new": …}
//   {"op": "data", "schema": …, "table": "…", "item": {…}, "required": true}
import { createInterface } from "node:readline";
import { validateSchema, compareSchemas, validateUpdateSchema, validateData } from "@basictech/schema";

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  let out;
  try {
    switch (c.op) {
      case "validate": out = { valid: validateSchema(c.schema).valid }; break;
      case "compare": out = compareSchemas(c.old, c.new); break;
      case "verify": out = { valid: validateUpdateSchema(c.old, c.new).valid }; break;
      case "data": {
        const v = validateData(c.schema, c.table, c.item, c.required);
        out = { valid: v.valid, message: v.message ?? null };
        break;
      }
      default: out = { error: `unknown op ${c.op}` };
    }
  } catch (e) {
    out = { threw: String(e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
