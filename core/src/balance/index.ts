// placeholder until the balance context lands
export {};
