// placeholder until the telemetry context lands
export {};
