// Port numbers written as text: 1 to 65535 in plain decimal, the one rule for authorities and Server ports.
import { decimalProblem } from './ip-address.js';

/** The highest TCP port. */
const MAX_PORT = 65_535;

/**
 * The port `text` names, or why it names none. Leading zeros ("080") are refused rather than read as 80:
 * some tools read them as octal, and a port that means different things to different tools is a trap.
 */
export function readPortNumber(text: string): number | { readonly problem: string } {
  const problem = decimalProblem(text, MAX_PORT);
  if (problem === 'not a number') return { problem: `port "${text}" is not a number; write a port from 1 to ${MAX_PORT}` };
  if (problem === 'leading zero') {
    const plain = text.replace(/^0+/, '');
    const hint = plain === '' ? `write a port from 1 to ${MAX_PORT}` : `write ${plain}`;
    return { problem: `port "${text}" has a leading zero; ${hint}` };
  }
  const port = Number(text);
  if (problem === 'too large' || port < 1) return { problem: `port ${text} is out of range; write a port from 1 to ${MAX_PORT}` };
  return port;
}
