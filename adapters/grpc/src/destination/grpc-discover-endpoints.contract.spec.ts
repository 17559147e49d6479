import { describeDiscoverEndpointsContract } from '@weft/fixtures';
import { allStreamsServed, newTruth, TestControlPlane, testChannel } from '../control-client/control-plane.spec-helper.js';
import { GrpcDiscoverEndpoints } from './grpc-discover-endpoints.js';

describeDiscoverEndpointsContract('GrpcDiscoverEndpoints served by GrpcDestinationService', async () => {
  const truth = newTruth();
  const plane = await TestControlPlane.start(truth);
  const { channel } = testChannel(plane.address);
  const port = new GrpcDiscoverEndpoints(channel);
  const served = () => allStreamsServed(() => truth.endpoints.watcherCount(), () => port.openStreamCount());
  return {
    port,
    setEndpoints: async (target, endpoints) => {
      await served();
      truth.endpoints.setEndpoints(target, endpoints);
    },
    deleteService: async (target) => {
      await served();
      truth.endpoints.deleteService(target);
    },
    close: async () => {
      port.close();
      channel.close();
      await plane.stop();
    },
  };
});
