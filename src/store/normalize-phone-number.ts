/**
 * One spelling per phone number, so that a number is found however the platform or the operator
 * wrote it. Spaces, dashes, dots and brackets are dropped, and a leading 00 becomes +. Chinese
 * numbers are kept in their national form, as IMS passes them: the country code (+86, 0086, or a
 * bare 86 before an 11-digit mobile number) is dropped, and a landline gets its trunk 0 back
 * (+86 10 1234 5678 → 01012345678); mobile (1xx) and 400/800 numbers take none. Other countries
 * keep their +code. Undefined for what is not a number (letters, a masked number).
 */
export function normalizePhoneNumber(value: string): string | undefined {
  const compact = value.replace(/[\s\-.()\u00a0]/g, '');
  if (!/^\+?\d{1,32}$/.test(compact)) return undefined;
  const number = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  const national = number.startsWith('+86') ? number.slice(3) : CHINA_MOBILE_WITH_CODE.test(number) ? number.slice(2) : undefined;
  if (national === undefined) return number;
  return national.startsWith('0') || CHINA_MOBILE.test(national) || CHINA_SERVICE.test(national) ? national : `0${national}`;
}

const CHINA_MOBILE = /^1[3-9]\d{9}$/;
const CHINA_MOBILE_WITH_CODE = /^861[3-9]\d{9}$/;
/** 400 and 800 numbers: dialled without a trunk 0. */
const CHINA_SERVICE = /^[48]00\d{7}$/;
