// adapters/docker: placeholder barrel.
export {};
