// apps/init: placeholder barrel.
export {};
