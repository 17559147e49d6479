// @weft/adapter-file: public API.
export {};
