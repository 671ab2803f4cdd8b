// Entry file BullMQ loads in its worker thread. Node does not carry tsx's loader into worker threads,
// so register it here before importing the TypeScript processor.
import { register } from 'tsx/esm/api';

register();
const { default: processJob } = await import('./job-processor.ts');
export default processJob;
