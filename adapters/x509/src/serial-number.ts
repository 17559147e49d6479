// Certificate serial numbers: 16 random bytes, positive and never shortened, so no two certificates share one.
const SERIAL_BYTES = 16;

/** A random serial as hex: 16 bytes whose first has its top bit clear (positive) and a bit set (no leading zero). */
export function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SERIAL_BYTES));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}
