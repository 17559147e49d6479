import { describe, expect, it } from 'vitest';
import { meshedInboundConnections } from './meshed-connections.js';

const CLIENT = 'bench-client.default.serviceaccount.identity.weft.cluster.local';

const metrics = `# HELP tcp_open_total Connections opened.
# TYPE tcp_open_total counter
tcp_open_total{direction="inbound",peer="src",tls="true",client_id="${CLIENT}",server_id="bench.default.serviceaccount.identity.weft.cluster.local"} 12
tcp_open_total{direction="inbound",peer="src",tls="true",client_id="${CLIENT}",target_addr="127.0.0.1:9000"} 3
tcp_open_total{direction="inbound",peer="src",tls="true",client_id="other.default.serviceaccount.identity.weft.cluster.local"} 40
tcp_open_total{direction="inbound",peer="src",tls="no_identity",no_tls_reason="loopback"} 7
tcp_open_total{direction="outbound",peer="dst",tls="true",client_id="${CLIENT}"} 5
tcp_close_total{direction="inbound",tls="true",client_id="${CLIENT}"} 15
`;

describe('meshedInboundConnections', () => {
  it('adds up inbound connections opened over mTLS by the given client only', () => {
    expect(meshedInboundConnections(metrics, CLIENT)).toBe(15);
  });

  it('is 0 when the client never came in over mTLS', () => {
    expect(meshedInboundConnections(metrics, 'nobody.default.serviceaccount.identity.weft.cluster.local')).toBe(0);
    expect(meshedInboundConnections('', CLIENT)).toBe(0);
  });

  it('does not take a client id that merely starts like the wanted one', () => {
    const longer = `tcp_open_total{direction="inbound",tls="true",client_id="${CLIENT}.evil"} 9\n`;
    expect(meshedInboundConnections(longer, CLIENT)).toBe(0);
  });
});
