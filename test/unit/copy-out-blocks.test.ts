import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Connection } from 'pg';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../activities/export/buffer-pool';
import { CopyOutBlocks } from '../../activities/export/copy-out-blocks';

/** One protocol message: type byte, int32 length (itself included), payload. */
function message(type: string, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const ROWS = Array.from({ length: 60 }, (_, i) => `${i},"row ${i}, with ""quotes""",${'x'.repeat(i % 7)}\n`);
const COPY_OUT_RESPONSE = message('H', Buffer.from([0, 0, 0]));
const NOTICE = message('N', 'SNOTICE\0Mhello\0\0');
const AFTER_COPY = Buffer.concat([message('C', 'COPY 60\0'), message('Z', 'I')]);
const AFTER_ERROR = Buffer.concat([message('E', 'SERROR\0C22012\0Mdivision by zero\0\0'), message('Z', 'I')]);

function rowsMessages(rows: string[]): Buffer[] {
  return rows.map((r) => message('d', r));
}

/**
 * A stand-in for pg's Connection: a socket with pg's one data listener, which
 * records what is handed back to it and, like pg, reports CommandComplete,
 * ErrorResponse and ReadyForQuery to the active query; query() makes the
 * "server" send `wire` cut into the given pieces.
 */
function fakeConnection(
  wire: Buffer,
  cuts: number[],
  active: () => CopyOutBlocks,
): { connection: Connection; handedBack: () => Buffer } {
  const socket = new PassThrough();
  const back: Buffer[] = [];
  let parsed = 0;
  socket.on('data', (b: Buffer) => {
    back.push(Buffer.from(b));
    const all = Buffer.concat(back);
    while (all.length - parsed >= 5 && all.length - parsed >= 1 + all.readUInt32BE(parsed + 1)) {
      const type = String.fromCharCode(all[parsed]);
      const body = all.subarray(parsed + 5, parsed + 1 + all.readUInt32BE(parsed + 1));
      parsed += 1 + all.readUInt32BE(parsed + 1);
      if (type === 'C') active().handleCommandComplete({ text: body.toString('latin1').replace(/\0$/, '') });
      if (type === 'E') active().handleError(new Error('server error'));
      if (type === 'Z') active().handleReadyForQuery();
    }
  });
  const conn = Object.assign(new EventEmitter(), {
    stream: socket,
    query: () => {
      // One piece per turn of the event loop: a readable socket joins what is written at once.
      const pieces: Buffer[] = [];
      let from = 0;
      for (const to of [...cuts, wire.length]) {
        if (to > from) pieces.push(Buffer.from(wire.subarray(from, to)));
        from = Math.max(from, to);
      }
      const next = (): void => {
        const piece = pieces.shift();
        if (!piece) return;
        socket.write(piece);
        setImmediate(next);
      };
      next();
    },
  });
  return { connection: conn as unknown as Connection, handedBack: () => Buffer.concat(back) };
}

async function drain(stream: CopyOutBlocks): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return chunks;
}

describe('CopyOutBlocks', () => {
  const wire = Buffer.concat([
    COPY_OUT_RESPONSE,
    ...rowsMessages(ROWS.slice(0, 30)),
    NOTICE,
    ...rowsMessages(ROWS.slice(30)),
    message('c'),
    AFTER_COPY,
  ]);
  const expected = Buffer.from(ROWS.join(''));

  it('yields exactly the row bytes, in fixed-size blocks, however the socket cuts the messages', async () => {
    for (let cut = 1; cut < wire.length; cut++) {
      const stream = new CopyOutBlocks('COPY …', new BufferPool(97, 0));
      const { connection, handedBack } = fakeConnection(wire, [cut], () => stream);
      stream.submit(connection);
      const chunks = await drain(stream);
      expect(Buffer.concat(chunks).equals(expected), `cut at ${cut}`).toBe(true);
      expect(chunks.slice(0, -1).every((c) => c.length === 97)).toBe(true);
      // The stream ends at ReadyForQuery, so Postgres's row count is known by then.
      expect(stream.rowCount).toBe(60);
      // Rows are counted as messages, never from the bytes (a Notice between them is not one).
      expect(stream.messages, `cut at ${cut}`).toBe(60);
      // What follows CopyDone goes back to pg whole, for it to read CommandComplete and ReadyForQuery.
      expect(handedBack().equals(AFTER_COPY), `cut at ${cut}`).toBe(true);
    }
  });

  it('copes with a socket that delivers a few bytes at a time', async () => {
    const cuts = Array.from({ length: Math.ceil(wire.length / 3) }, (_, i) => i * 3);
    const stream = new CopyOutBlocks('COPY …', new BufferPool(1000, 0));
    const { connection } = fakeConnection(wire, cuts, () => stream);
    stream.submit(connection);
    expect(Buffer.concat(await drain(stream)).equals(expected)).toBe(true);
    expect(stream.messages).toBe(60);
  });

  it('hands an ErrorResponse back to pg intact, wherever it is cut', async () => {
    const failing = Buffer.concat([COPY_OUT_RESPONSE, ...rowsMessages(ROWS.slice(0, 5)), AFTER_ERROR]);
    const errorAt = failing.length - AFTER_ERROR.length;
    for (let cut = errorAt - 6; cut < failing.length; cut++) {
      const stream = new CopyOutBlocks('COPY …', new BufferPool(64, 0));
      const { connection, handedBack } = fakeConnection(failing, [cut], () => stream);
      stream.submit(connection);
      // pg reads the error from what it is handed and reports it to the stream.
      await expect(drain(stream)).rejects.toThrow(/server error/);
      // The rest of the server's bytes (ReadyForQuery) may still be on their way to pg.
      await new Promise((r) => setTimeout(r, 5));
      expect(handedBack().equals(AFTER_ERROR), `cut at ${cut}`).toBe(true);
    }
  });

  it('fails, rather than ends, when an error follows CopyDone', async () => {
    const late = Buffer.concat([COPY_OUT_RESPONSE, ...rowsMessages(ROWS.slice(0, 3)), message('c'), AFTER_ERROR]);
    const stream = new CopyOutBlocks('COPY …', new BufferPool(64, 0));
    const { connection } = fakeConnection(late, [], () => stream);
    stream.submit(connection);
    await expect(drain(stream)).rejects.toThrow(/server error/);
  });

  it('fails on a message that has no place in a COPY out', async () => {
    const odd = Buffer.concat([COPY_OUT_RESPONSE, ...rowsMessages(ROWS.slice(0, 2)), message('T', 'x')]);
    const stream = new CopyOutBlocks('COPY …', new BufferPool(64, 0));
    const { connection } = fakeConnection(odd, [], () => stream);
    stream.submit(connection);
    await expect(drain(stream)).rejects.toThrow(/unexpected protocol message 'T'/);
  });
});
