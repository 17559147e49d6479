// @weft/adapter-grpc: public API.
export {};
