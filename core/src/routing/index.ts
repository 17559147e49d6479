// placeholder until the routing context lands
export {};
