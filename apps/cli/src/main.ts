#!/usr/bin/env tsx
// graft-client: submit, watch, metrics, predict and download against a running Graft API (GRAFT_URL).
import { runCli } from './run-cli.ts';

process.exitCode = await runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env });
