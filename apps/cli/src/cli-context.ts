// What every command gets: the API client and where to write (so tests can capture output).
import type { ApiClient } from './api-client.ts';

export interface Output {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface CliContext {
  client: ApiClient;
  out: Output;
  err: Output;
}

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}
