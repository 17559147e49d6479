// placeholder until the protocol context lands
export {};
