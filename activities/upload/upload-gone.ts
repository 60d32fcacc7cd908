/**
 * S3 no longer knows the file's multipart upload (NoSuchUpload): a CompleteMultipartUpload
 * that S3 carried out but whose answer was lost (a 500 after the work, then the SDK's retry),
 * an upload aborted by the bucket's lifecycle rule, or by a cancel. The role may only
 * s3:PutObject, so it cannot read the object back to tell which; the file is therefore
 * sent again from its first part, in a new multipart upload under the same key (PutObject
 * may overwrite), rather than guessed complete.
 */
export class UploadGone extends Error {
  constructor(key: string, operation: string) {
    super(`${operation} on ${key}: S3 no longer knows this multipart upload (NoSuchUpload); sending the file again`);
    this.name = 'UploadGone';
  }
}
