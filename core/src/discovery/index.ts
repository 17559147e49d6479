// placeholder until the discovery context lands
export {};
