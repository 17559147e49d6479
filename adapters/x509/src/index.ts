// @weft/adapter-x509: public API.
export {};
