/** 13800000001 → 138****0001: enough to recognise a caller, not enough to dial them. */
export function maskPhoneNumber(number: string): string {
  const digits = number.length;
  if (digits <= 4) return '*'.repeat(digits);
  if (digits < 8) return `${'*'.repeat(digits - 2)}${number.slice(-2)}`;
  return `${number.slice(0, 3)}${'*'.repeat(digits - 7)}${number.slice(-4)}`;
}
