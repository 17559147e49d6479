// Entry point of the demo traffic generator process: PORT, HOST, WEB_ADDR, RATE, REQUEST_TIMEOUT_MS.
import { runService } from './run-service.js';
import { readTrafficSettings, startTrafficGenerator } from './traffic-generator.js';

await runService('traffic', readTrafficSettings, (settings) => startTrafficGenerator(settings));
