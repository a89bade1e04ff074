// Property strings (`net0`, `features`) as PVE stores them: parsed by their format, completed as
// pve-container does (a veth type and a generated MAC for a NIC), and printed back by PVE's
// print_property_string: the default key bare, then required keys sorted, then the rest sorted.
import { paramError } from './errors.js';

export type PropertyMap = Map<string, string>;

interface Format {
  required: string[];
  defaultKey?: string;
}

const LXC_NET: Format = { required: ['name'] };
const LXC_FEATURES: Format = { required: [] };

export function parsePropertyString(key: string, text: string, format: Format): PropertyMap {
  const out: PropertyMap = new Map();
  for (const part of text.split(',')) {
    if (part === '') continue;
    const i = part.indexOf('=');
    if (i < 0) {
      if (!format.defaultKey)
        paramError({ [key]: `invalid format - missing key in comma-separated list property` });
      out.set(format.defaultKey, part);
    } else out.set(part.slice(0, i), part.slice(i + 1));
  }
  for (const r of format.required)
    if (!out.has(r))
      paramError({
        [key]: `invalid format - format error\n${key}.${r}: property is missing and it is not optional`,
      });
  return out;
}

export function printPropertyString(props: PropertyMap, format: Format): string {
  const keys = [...props.keys()];
  const sorted = keys.filter((k) => k !== format.defaultKey).sort();
  const order = [
    ...(format.defaultKey && props.has(format.defaultKey) ? [format.defaultKey] : []),
    ...sorted.filter((k) => format.required.includes(k)),
    ...sorted.filter((k) => !format.required.includes(k)),
  ];
  return order.map((k) => (k === format.defaultKey ? props.get(k)! : `${k}=${props.get(k)}`)).join(',');
}

/**
 * A container config value as pve-container writes it; `mac` gives the generated hardware address
 * of NIC n (PVE draws it at random with the datacenter's BC:24:11 prefix).
 */
export function normalizeCtOption(
  key: string,
  value: string | number,
  mac: (n: number) => string,
): string | number {
  const nic = /^net(\d+)$/.exec(key);
  if (nic && typeof value === 'string') {
    const props = parsePropertyString(key, value, LXC_NET);
    props.set('type', 'veth');
    if (!props.has('hwaddr')) props.set('hwaddr', mac(Number(nic[1])));
    return printPropertyString(props, LXC_NET);
  }
  if (key === 'features' && typeof value === 'string')
    return printPropertyString(parsePropertyString(key, value, LXC_FEATURES), LXC_FEATURES);
  return value;
}
