// Entry point of the demo web front end process (HTTP/1.1): PORT, HOST, CATALOG_ADDR, FEED_ADDR, UPSTREAM_TIMEOUT_MS.
import { runService } from './run-service.js';
import { readWebSettings, startWebServer } from './web-server.js';

await runService('web', readWebSettings, startWebServer);
