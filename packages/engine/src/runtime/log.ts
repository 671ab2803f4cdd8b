// The engine's own logger for runtime decisions (backend choice, fallbacks); callers that pass a
// logger of their own (train()) log progress there instead.
import { pino } from 'pino';

export const engineLog = pino({ name: 'graft-engine', level: process.env.LOG_LEVEL ?? 'info' });
