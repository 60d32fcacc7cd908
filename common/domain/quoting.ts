/** How operator-supplied values appear in error messages. */

const MAX_QUOTED = 100;

/**
 * Quote a user-supplied value for an error message. JSON escaping keeps control
 * characters and quotes from garbling logs; truncation keeps a pasted policy document
 * from flooding them.
 */
export function quoteValue(value: string): string {
  const chars = Array.from(value);
  if (chars.length <= MAX_QUOTED) return JSON.stringify(value);
  return `${JSON.stringify(chars.slice(0, MAX_QUOTED).join(''))}… (${chars.length} characters)`;
}
