import type { UploadPartCommand } from '@aws-sdk/client-s3';

/**
 * Gives SigV4 the part's SHA-256, which we compute anyway for the checkpoint: the
 * signer otherwise hashes every part once more on the event loop (a third pass
 * over the data). S3 checks the body against it, so it also guards the transfer.
 */
export function withPayloadSha256(command: UploadPartCommand, sha256Hex: string): UploadPartCommand {
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = sha256Hex;
      return next(args);
    },
    { step: 'build', name: 'datasharePayloadSha256' },
  );
  return command;
}
