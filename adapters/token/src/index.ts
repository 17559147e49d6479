// @weft/adapter-token: public API.
export {};
