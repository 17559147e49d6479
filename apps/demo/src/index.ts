// @weft/demo: the demo mesh's services, usable as plain processes (see src/*-main.ts).
export {};
