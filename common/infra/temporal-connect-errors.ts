/**
 * A TLS cluster or Temporal Cloud that refuses a connection says so badly: the
 * client waits out "Failed to connect before the deadline", or reports an HTTP 400
 * from the TLS terminator. This turns such a failure into one line that names TLS
 * or the API key and the TEMPORAL_* variable to set, telling "nothing listens"
 * (ServiceUnreachable) from "something answered and refused us".
 */
import { connect } from 'node:net';
import { DatashareError } from '../errors';
import { describeTemporalSecurity, temporalSecurity, type TemporalSettings } from './temporal-settings';

export class TemporalConnectionRefusedError extends DatashareError {
  constructor(message: string) {
    super('TemporalConnectionRefused', message);
  }
}

function fullText(e: unknown, depth = 0): string {
  if (depth > 4 || typeof e !== 'object' || e === null) return String(e);
  const x = e as { message?: unknown; details?: unknown; cause?: unknown };
  const parts = [typeof x.message === 'string' ? x.message : '', typeof x.details === 'string' ? x.details : ''];
  if (x.cause) parts.push(fullText(x.cause, depth + 1));
  return parts.filter(Boolean).join(': ');
}

/** Does something accept TCP connections at host:port? Tells "not running" from "refused us". */
export function tcpAnswers(address: string, timeoutMs = 2000): Promise<boolean> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  if (!host || !Number.isInteger(port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const AUTH = /UNAUTHENTICATED|authentication credentials|PERMISSION_DENIED|Request unauthorized|invalid api key/i;
const UNTRUSTED_SERVER =
  /UnknownIssuer|unable to get (local )?issuer|self[- ]signed|certificate verify failed|unknown ca/i;
const WRONG_NAME = /NotValidForName|hostname|altnames|does not match/i;
/** A connection that was accepted and then closed: with TLS off, what a TLS port does to a plain-text client. */
const DROPPED = /connection closed|connection reset|ConnectionReset|broken pipe|unexpected EOF|ECONNRESET/i;
/** What a TLS terminator or server answers a plain-text or certificate-less gRPC client with. */
const TLS_LEVEL =
  /HTTP status code 400|400 Bad Request|invalid compression flag|FRAME_SIZE_ERROR|http2 error|handshake|certificate|tls|ssl|alert/i;

/**
 * The operator's error for a failed Temporal connect, or undefined when the failure
 * is not about TLS or credentials (then the caller's usual handling applies).
 */
export async function explainTemporalConnectFailure(
  e: unknown,
  s: TemporalSettings,
): Promise<TemporalConnectionRefusedError | undefined> {
  if (e instanceof TemporalConnectionRefusedError) return e;
  const text = fullText(e);
  const sec = temporalSecurity(s);
  const at = `Temporal at ${s.address} (${describeTemporalSecurity(sec)})`;
  if (AUTH.test(text)) {
    return new TemporalConnectionRefusedError(
      sec.apiKey
        ? `${at} refused the API key: ${text}; set TEMPORAL_API_KEY to a valid key for namespace ${s.namespace}`
        : `${at} requires credentials: ${text}; set TEMPORAL_API_KEY, or a client certificate with TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH`,
    );
  }
  const deadline = /Failed to connect before the deadline|deadline exceeded/i.test(text);
  const dropped = DROPPED.test(text);
  if (!TLS_LEVEL.test(text) && !deadline && !dropped) return undefined;
  // A deadline or a dropped connection with nothing listening is an unreachable server, not TLS.
  if ((deadline || dropped) && !(await tcpAnswers(s.address))) return undefined;
  // Dropped right after connecting: a TLS port closes a plain-text client (nginx does, at varying points).
  if (dropped && !TLS_LEVEL.test(text) && sec.tls) return undefined;
  if (!sec.tls) {
    return new TemporalConnectionRefusedError(
      `${at} answers but not plain gRPC: it requires TLS; set TEMPORAL_TLS=true (with TEMPORAL_TLS_SERVER_CA_CERT_PATH if its certificate comes from a private CA), and TEMPORAL_API_KEY or TEMPORAL_TLS_CLIENT_CERT_PATH/TEMPORAL_TLS_CLIENT_KEY_PATH for credentials`,
    );
  }
  if (UNTRUSTED_SERVER.test(text) || (deadline && !/HTTP status/i.test(text))) {
    return new TemporalConnectionRefusedError(
      `${at}: TLS handshake failed, the server's certificate is not trusted (${text}); set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that issued it${WRONG_NAME.test(text) ? ', or TEMPORAL_TLS_SERVER_NAME to the name in it' : ''}`,
    );
  }
  if (WRONG_NAME.test(text)) {
    return new TemporalConnectionRefusedError(
      `${at}: TLS handshake failed, the server's certificate is for another name (${text}); set TEMPORAL_TLS_SERVER_NAME to the name in it`,
    );
  }
  return new TemporalConnectionRefusedError(
    sec.clientCertificate
      ? `${at} refused the TLS client certificate (${text}): it is not one the server trusts; set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH to the certificate and key issued for namespace ${s.namespace}`
      : `${at} refused the TLS connection without a client certificate (${text}); set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (mTLS), or TEMPORAL_API_KEY`,
  );
}
