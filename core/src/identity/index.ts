// placeholder until the identity context lands
export {};
