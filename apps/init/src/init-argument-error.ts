// The typed errors of weft-init's command line: each names the flag, the value given and what to write instead.
import { InvalidInputError } from '@weft/core';

/** A bad weft-init argument. `flag` is the flag it belongs to; `input` is the value exactly as given. */
export abstract class InitArgumentError extends InvalidInputError {
  constructor(
    readonly flag: string,
    input: string,
    reason: string,
  ) {
    super(input, reason);
    // An unknown flag is its own input; naming it twice would only add noise.
    this.message = flag === input ? `${JSON.stringify(input)}: ${reason}` : `${flag} ${JSON.stringify(input)}: ${reason}`;
  }
}

/** An unknown flag, a flag given twice, a flag without its value or a switch given a value. */
export class InvalidInitFlagError extends InitArgumentError {
  readonly kind = 'flag';
}

/** A port or port range that is not 1-65535, a reversed range, or an outbound port equal to the inbound port. */
export class InvalidInitPortError extends InitArgumentError {
  readonly kind = 'port';
}

/** A --skip-subnets entry that is not an IPv4 or IPv6 network. */
export class InvalidInitSubnetError extends InitArgumentError {
  readonly kind = 'CIDR';
}

/** A --proxy-uid or --proxy-gid that is not a user or group number. */
export class InvalidInitIdError extends InitArgumentError {
  readonly kind = 'user or group id';
}

/** An --iptables value other than the three supported command families. */
export class InvalidIptablesFamilyError extends InitArgumentError {
  readonly kind = 'iptables command';
}
