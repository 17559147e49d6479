// ControlLog: where weft-control reports what it does, one named event with its fields at a time.
export type ControlLog = (event: string, fields?: Record<string, unknown>) => void;
