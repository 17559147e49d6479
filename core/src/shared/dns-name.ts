// DNS names and labels (RFC 1123, lowercase): the one check behind authorities, identities and identity patterns.

/** The longest DNS label, in characters. */
export const MAX_DNS_LABEL_LENGTH = 63;

/** The longest DNS name, in characters, without a trailing dot. */
export const MAX_DNS_NAME_LENGTH = 253;

const lowercaseLabel = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** True for a lowercase RFC 1123 label: 1-63 of a-z, 0-9 and "-", starting and ending with a letter or digit. */
export function isDnsLabel(text: string): boolean {
  return text.length <= MAX_DNS_LABEL_LENGTH && lowercaseLabel.test(text);
}

/**
 * Why `label` is not a lowercase RFC 1123 label, or undefined when it is one. The reason reads after the
 * label's name ("is empty", "has uppercase letters; write \"web\"", ...), so callers can say which label it is.
 */
export function dnsLabelProblem(label: string): string | undefined {
  if (label === '') return 'is empty';
  if (label.length > MAX_DNS_LABEL_LENGTH) {
    return `is ${label.length} characters; at most ${MAX_DNS_LABEL_LENGTH} are allowed`;
  }
  if (lowercaseLabel.test(label)) return undefined;
  if (lowercaseLabel.test(label.toLowerCase())) return `has uppercase letters; write ${quote(label.toLowerCase())}`;
  if (/^[A-Za-z0-9-]+$/.test(label)) {
    return 'starts or ends with "-"; a label starts and ends with a letter or digit';
  }
  return 'has characters other than a-z, 0-9 and "-"';
}

/**
 * Why `name` is not a lowercase DNS name (dot-separated RFC 1123 labels, at most 253 characters, no trailing
 * dot), or undefined when it is one. Like dnsLabelProblem, the reason reads after the name.
 */
export function dnsNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_DNS_NAME_LENGTH) {
    return `is ${name.length} characters; at most ${MAX_DNS_NAME_LENGTH} are allowed`;
  }
  const labels = name.split('.');
  if (labels.includes('')) return 'has an empty label (".." or a leading or trailing ".")';
  // A name that is only wrong in case gets one hint for the whole name, not one per label.
  if (labels.every((label) => isDnsLabel(label.toLowerCase())) && name !== name.toLowerCase()) {
    return `has uppercase letters; write ${quote(name.toLowerCase())}`;
  }
  for (const label of labels) {
    const problem = dnsLabelProblem(label);
    if (problem !== undefined) return `has label ${quote(label)}, which ${problem}`;
  }
  return undefined;
}

// Quotes a value for a message, escaping control and non-ASCII characters so they cannot hide.
function quote(value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
