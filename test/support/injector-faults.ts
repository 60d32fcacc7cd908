import type { ErrorAnswer } from './injector-rules';

/** The answers real S3 and STS give when they misbehave (status and code as AWS documents them). */

export const SLOW_DOWN: ErrorAnswer = {
  status: 503,
  code: 'SlowDown',
  message: 'Please reduce your request rate.',
};

export const INTERNAL_ERROR: ErrorAnswer = {
  status: 500,
  code: 'InternalError',
  message: 'We encountered an internal error. Please try again.',
};

export const REQUEST_TIMEOUT: ErrorAnswer = {
  status: 400,
  code: 'RequestTimeout',
  message: 'Your socket connection to the server was not read from or written to within the timeout period.',
};

export const EXPIRED_TOKEN: ErrorAnswer = {
  status: 400,
  code: 'ExpiredToken',
  message: 'The provided token has expired.',
};

export const SHA256_MISMATCH: ErrorAnswer = {
  status: 400,
  code: 'XAmzContentSHA256Mismatch',
  message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
};

export const BAD_DIGEST: ErrorAnswer = {
  status: 400,
  code: 'BadDigest',
  message: 'The Content-MD5 you specified did not match what we received.',
};

export const NO_SUCH_UPLOAD: ErrorAnswer = {
  status: 404,
  code: 'NoSuchUpload',
  message:
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
};

export const STS_THROTTLING: ErrorAnswer = {
  status: 400,
  code: 'Throttling',
  message: 'Rate exceeded',
  sts: true,
};

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function errorXml(code: string, message: string, resource: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>injected</RequestId></Error>`;
}

export function stsErrorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>injected</RequestId></ErrorResponse>`;
}

export function errorBody(a: ErrorAnswer, resource: string): string {
  return a.sts ? stsErrorXml(a.code, a.message) : errorXml(a.code, a.message, resource);
}
