// Registers the project's custom search attributes on a namespace when missing: needed after an
// upgrade adds one (the dev server registers its flags only when it creates the database).
import proto from '@temporalio/proto';
import type { Connection } from '@temporalio/client';
import { allSearchAttributes } from '../../workflows/search-attributes';

// @temporalio/proto is CommonJS: its namespace comes through the default export under ESM.
const { IndexedValueType } = proto.temporal.api.enums.v1;
const indexedType: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

/** Returns the names it added. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = allSearchAttributes.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, indexedType[k.type]])),
  });
  return missing.map((k) => k.name);
}
