// A real S3-protocol server (s3rver) on a free port with one bucket, for tests of the S3 backend.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { S3Settings } from '@graft/config';

export interface TestS3 {
  bucket: string;
  endpoint: string;
  s3: S3Settings;
  close(): Promise<void>;
}

export async function startS3(bucket = 'graft-test'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'graft-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    bucket,
    endpoint,
    // s3rver accepts its well-known development key pair
    s3: { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
