// Entry point of the demo feed process (WebSocket): PORT, HOST, INTERVAL_MS.
import { readFeedSettings, startFeedServer } from './feed-server.js';
import { runService } from './run-service.js';

await runService('feed', readFeedSettings, startFeedServer);
