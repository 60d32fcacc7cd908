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
    // Jump between quotes and newlines with indexOf (native) rather than visiting every byte.
    let n = 0;
    let i = 0;
    let nextQuote = chunk.indexOf(QUOTE, 0);
    while (i < chunk.length) {
      if (this.inQuotes) {
        if (nextQuote === -1) break;
        this.inQuotes = false;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
        continue;
      }
      const nl = chunk.indexOf(NL, i);
      if (nl !== -1 && (nextQuote === -1 || nl < nextQuote)) {
        n++;
        i = nl + 1;
      } else if (nextQuote !== -1) {
        this.inQuotes = true;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
      } else {
        break;
      }
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
