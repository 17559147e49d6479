import { describeDiscoverInboundPolicyContract } from '@weft/fixtures';
import { allStreamsServed, newTruth, TestControlPlane, testChannel } from '../control-client/control-plane.spec-helper.js';
import { GrpcDiscoverInboundPolicy } from './grpc-discover-inbound-policy.js';

describeDiscoverInboundPolicyContract('GrpcDiscoverInboundPolicy served by GrpcInboundPolicyService', async () => {
  const truth = newTruth();
  const plane = await TestControlPlane.start(truth);
  const { channel } = testChannel(plane.address);
  const port = new GrpcDiscoverInboundPolicy(channel);
  const served = () => allStreamsServed(() => truth.policies.watcherCount(), () => port.openStreamCount());
  return {
    port,
    setPolicy: async (workload, onPort, policy) => {
      await served();
      truth.policies.setPolicy(workload, onPort, policy);
    },
    clearPolicy: async (workload, onPort) => {
      await served();
      truth.policies.clearPolicy(workload, onPort);
    },
    defaultPolicy: (onPort) => truth.policies.defaultPolicy(onPort),
    close: async () => {
      port.close();
      channel.close();
      await plane.stop();
    },
  };
});
