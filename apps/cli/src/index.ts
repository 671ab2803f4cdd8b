export { runCli, usage } from './run-cli.ts';
export { ApiClient, ApiError } from './api-client.ts';
export { readEvents, type SseMessage } from './sse.ts';
export { ProgressBar } from './progress-bar.ts';
