// Storage in an S3-compatible bucket (AWS S3, MinIO, s3rver): STORAGE_URL=s3://bucket[/prefix].
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '@graft/config';
import { checkKey, checkPrefix, StorageNotFoundError, type Storage } from './storage.ts';

export function createS3Client(s3: S3Settings): S3Client {
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    credentials: s3.credentials,
    // The SDK's default CRC checksums (aws-chunked bodies) are not understood by every S3-compatible
    // server; send and check them only where the operation requires it.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

/** Opens one object as a stream: used for s3:// dataset URLs. */
export async function openS3Object(client: S3Client, bucket: string, key: string): Promise<Readable> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return res.Body as Readable;
  } catch (err) {
    if (isNotFound(err)) throw new StorageNotFoundError(`s3://${bucket}/${key}`);
    throw err;
  }
}

export class S3Storage implements Storage {
  readonly description: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly keyPrefix = '',
  ) {
    this.description = `s3://${bucket}/${keyPrefix}`;
  }

  private objectKey(key: string): string {
    return this.keyPrefix + checkKey(key);
  }

  async put(key: string, body: Buffer | Readable): Promise<number> {
    const Key = this.objectKey(key);
    if (Buffer.isBuffer(body)) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.length }));
      return body.length;
    }
    // PutObject needs the length up front; spool the stream to a temp file (uploads are size-limited
    // by the caller, and one request keeps the backend working on servers without multipart support).
    const dir = await mkdtemp(path.join(tmpdir(), 'graft-s3-put-'));
    try {
      const file = path.join(dir, 'body');
      await pipeline(body, createWriteStream(file));
      const { size } = await stat(file);
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: createReadStream(file), ContentLength: size }));
      return size;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      return await openS3Object(this.client, this.bucket, this.objectKey(key));
    } catch (err) {
      if (err instanceof StorageNotFoundError) throw new StorageNotFoundError(key);
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix + checkPrefix(prefix), ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key.slice(this.keyPrefix.length));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix === '') throw new Error('refusing to delete the whole store');
    const keys = await this.list(prefix);
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: this.keyPrefix + k }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
    }
  }
}
