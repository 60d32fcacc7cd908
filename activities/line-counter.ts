const NL = 0x0a;
const QUOTE = 0x22;

/**
 * Counts rows in a COPY output stream, chunk by chunk. CSV fields may hold
 * newlines inside quotes, so CSV counting tracks quote state across chunks;
 * a doubled quote toggles twice and so needs no special case.
 */
export class LineCounter {
  private inQuotes = false;

  constructor(private readonly csvQuoting: boolean) {}

  count(chunk: Buffer): number {
    if (!this.csvQuoting || (!this.inQuotes && chunk.indexOf(QUOTE) === -1)) return countNewlines(chunk);
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === QUOTE) this.inQuotes = !this.inQuotes;
      else if (c === NL && !this.inQuotes) n++;
    }
    return n;
  }
}

function countNewlines(chunk: Buffer): number {
  let n = 0;
  let i = chunk.indexOf(NL);
  while (i !== -1) {
    n++;
    i = chunk.indexOf(NL, i + 1);
  }
  return n;
}
