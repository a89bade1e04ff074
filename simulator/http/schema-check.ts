// Parameter verification by the official schema's rules (types, required, enums, minimum/maximum,
// maxLength, no unknown properties), with PVE's texts. Returns typed values for the handlers.
import { paramError } from '../errors.js';

export interface ParamSchema {
  type?: string;
  optional?: number;
  enum?: string[];
  minimum?: number | string;
  maximum?: number | string;
  maxLength?: number;
  default?: unknown;
}

export interface MethodParams {
  additionalProperties: number | boolean;
  properties: Record<string, ParamSchema>;
}

export type TypedParams = Record<string, string | number | boolean>;

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(1|0|true|false|yes|no|on|off)$/i;

/** Finds the schema of a key, including indexed families such as net[n] → net0, net1, ... */
function propertyOf(schema: MethodParams, key: string): ParamSchema | undefined {
  const direct = schema.properties[key];
  if (direct) return direct;
  const m = /^([a-z]+)(\d+)$/.exec(key);
  return m ? schema.properties[`${m[1]}[n]`] : undefined;
}

export function verifyParams(raw: Record<string, string>, schema: MethodParams): TypedParams {
  const errors: Record<string, string> = {};
  const out: TypedParams = {};
  for (const [key, value] of Object.entries(raw)) {
    const prop = propertyOf(schema, key);
    if (!prop) {
      if (!schema.additionalProperties)
        errors[key] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const err = checkValue(value, prop);
    if (err) errors[key] = err;
    else out[key] = convert(value, prop.type);
  }
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (prop.optional || key.endsWith('[n]')) continue;
    if (raw[key] === undefined) errors[key] = 'property is missing and it is not optional';
  }
  if (Object.keys(errors).length > 0) paramError(errors);
  return out;
}

function checkValue(value: string, prop: ParamSchema): string | null {
  switch (prop.type) {
    case 'integer':
      if (!INTEGER.test(value)) return `type check ('integer') failed - got '${value}'`;
      return range(Number(value), prop);
    case 'number':
      if (!NUMBER.test(value)) return `type check ('number') failed - got '${value}'`;
      return range(Number(value), prop);
    case 'boolean':
      if (!BOOLEAN.test(value)) return `type check ('boolean') failed - got '${value}'`;
      return null;
    default:
      if (prop.maxLength !== undefined && value.length > prop.maxLength)
        return `value may only be ${prop.maxLength} characters long`;
      if (prop.enum && !prop.enum.includes(value))
        return `value '${value}' does not have a value in the enumeration '${prop.enum.join(', ')}'`;
      return null;
  }
}

function range(n: number, prop: ParamSchema): string | null {
  if (prop.minimum !== undefined && n < Number(prop.minimum))
    return `value must have a minimum value of ${prop.minimum}`;
  if (prop.maximum !== undefined && n > Number(prop.maximum))
    return `value must have a maximum value of ${prop.maximum}`;
  return null;
}

function convert(value: string, type: string | undefined): string | number | boolean {
  if (type === 'integer' || type === 'number') return Number(value);
  if (type === 'boolean') return /^(1|true|yes|on)$/i.test(value);
  return value;
}
