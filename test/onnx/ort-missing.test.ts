// onnxruntime-node is optional: in a process where it cannot be loaded, every runner is null (callers
// keep TF.js) and the log says so, instead of a crash at import.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('without onnxruntime-node the runners are null and the warning names the TF.js path', () => {
  const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
  const out = execFileSync(process.execPath, ['--import', fixture('hide-onnxruntime.mjs'), '--import', 'tsx', fixture('runner-without-ort.ts')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const result = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(result.available, false);
  assert.equal(result.runner, null);
  assert.equal(result.warnings.length, 1);
  assert.equal(result.warnings[0].path, 'tfjs');
  assert.match(result.warnings[0].err, /onnxruntime-node/);
});
