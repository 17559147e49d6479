// The e2e apps' gRPC service, weft.e2e.Echo/Say, with JSON messages so no .proto file is needed.
const json = {
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(bytes.toString('utf8')),
};

export const echoService = {
  say: {
    path: '/weft.e2e.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
