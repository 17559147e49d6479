import { describeDiscoverProfileContract } from '@weft/fixtures';
import { allStreamsServed, newTruth, TestControlPlane, testChannel } from '../control-client/control-plane.spec-helper.js';
import { GrpcDiscoverProfile } from './grpc-discover-profile.js';

describeDiscoverProfileContract('GrpcDiscoverProfile served by GrpcDestinationService', async () => {
  const truth = newTruth();
  const plane = await TestControlPlane.start(truth);
  const { channel } = testChannel(plane.address);
  const port = new GrpcDiscoverProfile(channel);
  const served = () => allStreamsServed(() => truth.profiles.watcherCount(), () => port.openStreamCount());
  return {
    port,
    setProfile: async (target, profile) => {
      await served();
      truth.profiles.setProfile(target, profile);
    },
    deleteProfile: async (target) => {
      await served();
      truth.profiles.deleteProfile(target);
    },
    close: async () => {
      port.close();
      channel.close();
      await plane.stop();
    },
  };
});
