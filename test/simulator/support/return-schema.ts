// Checks a JSON answer against a return schema from the official API description: types, enums,
// required (non-optional) properties, and, when strict, no properties the schema does not list.

export interface ReturnSchema {
  type?: string;
  optional?: number;
  enum?: string[];
  properties?: Record<string, ReturnSchema>;
  items?: ReturnSchema;
}

export interface CheckOptions {
  /** Report properties that the schema does not describe (except the allowed extras). */
  strict: boolean;
  /** Property names PVE really sends although the schema omits them, by JSON path ('$', '$[]', '$.memory'). */
  extras?: Record<string, string[]>;
}

export function checkReturn(value: unknown, schema: ReturnSchema, opts: CheckOptions, path = '$'): string[] {
  const problems: string[] = [];
  const typeError = typeMismatch(value, schema.type);
  if (typeError) return [`${path}: ${typeError}`];
  if (schema.enum && !schema.enum.includes(String(value)))
    problems.push(`${path}: '${String(value)}' is not one of ${schema.enum.join('|')}`);
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => problems.push(...checkReturn(v, schema.items!, opts, `${path}[${i}]`)));
  if (schema.properties && value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const [k, prop] of Object.entries(schema.properties)) {
      if (k.endsWith('[n]')) continue;
      if (obj[k] === undefined) {
        if (!prop.optional) problems.push(`${path}.${k}: required property is missing`);
        continue;
      }
      problems.push(...checkReturn(obj[k], prop, opts, `${path}.${k}`));
    }
    for (const [k, v] of Object.entries(obj)) {
      const indexed = /^([a-z]+)\d+$/.exec(k);
      const prop = schema.properties[k] ?? (indexed ? schema.properties[`${indexed[1]}[n]`] : undefined);
      if (prop) {
        if (!(k in schema.properties)) problems.push(...checkReturn(v, prop, opts, `${path}.${k}`));
        continue;
      }
      const generic = path.replace(/\[\d+\]/g, '[]');
      // An empty property list means the schema leaves the object undescribed (rrddata points).
      const described = Object.keys(schema.properties).length > 0;
      if (opts.strict && described && !(opts.extras?.[generic] ?? []).includes(k))
        problems.push(`${path}.${k}: not in the schema`);
    }
  }
  return problems;
}

function typeMismatch(value: unknown, type: string | undefined): string | null {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  switch (type) {
    case undefined:
    case 'any':
      return null;
    case 'null':
      return value === null ? null : `expected null, got ${got}`;
    case 'string':
      return typeof value === 'string' ? null : `expected string, got ${got}`;
    case 'integer':
      return Number.isInteger(value) ? null : `expected integer, got ${JSON.stringify(value)}`;
    case 'number':
      return typeof value === 'number' ? null : `expected number, got ${got}`;
    case 'boolean':
      // PVE's JSON carries booleans as 0/1.
      return typeof value === 'boolean' || value === 0 || value === 1
        ? null
        : `expected boolean (0/1), got ${JSON.stringify(value)}`;
    case 'array':
      return Array.isArray(value) ? null : `expected array, got ${got}`;
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? null
        : `expected object, got ${got}`;
    default:
      return null;
  }
}
