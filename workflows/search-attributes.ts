// Custom search attributes every saga sets, so runs can be found and filtered in the Web UI.
// The dev stack and the test server pre-register them; a production namespace needs
// `temporal operator search-attribute create` once (see README).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const PveVmid = defineSearchAttributeKey('PveVmid', SearchAttributeType.KEYWORD);
export const PveNode = defineSearchAttributeKey('PveNode', SearchAttributeType.KEYWORD);
export const PveOperation = defineSearchAttributeKey('PveOperation', SearchAttributeType.KEYWORD);
export const PveOutcome = defineSearchAttributeKey('PveOutcome', SearchAttributeType.KEYWORD);
export const PveNeedsAttention = defineSearchAttributeKey('PveNeedsAttention', SearchAttributeType.BOOL);

export const allSearchAttributes = [PveVmid, PveNode, PveOperation, PveOutcome, PveNeedsAttention];

/** The CLI's `--search-attribute name=Type` spelling for each key. */
export function searchAttributeFlags(): string[] {
  const typeName: Record<string, string> = { KEYWORD: 'Keyword', BOOL: 'Bool' };
  return allSearchAttributes.map((k) => `${k.name}=${typeName[k.type]}`);
}
