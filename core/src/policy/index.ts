// placeholder until the policy context lands
export {};
