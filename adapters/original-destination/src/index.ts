// @weft/adapter-original-destination: the original destination of connections iptables redirected (SO_ORIGINAL_DST).
export * from './original-destination.js';
