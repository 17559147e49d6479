// adapters/original-destination: placeholder barrel.
export {};
