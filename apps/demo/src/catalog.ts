// Entry point of the demo catalog process (gRPC): PORT, HOST, INSTANCE_NAME, DELAY_MS, FAIL_RATE.
import { readCatalogSettings, startCatalogServer } from './catalog-server.js';
import { runService } from './run-service.js';

await runService('catalog', readCatalogSettings, (settings) => startCatalogServer(settings));
