/** One finding of `doctor` or the startup probe: what was checked, how it went, what to do. */
export type DiagnosisStatus = 'PASS' | 'WARN' | 'FAIL';

export interface Diagnosis {
  status: DiagnosisStatus;
  /** What was checked, as a config path where there is one (providers.qwen, agents.support.model). */
  subject: string;
  message: string;
}

export function diagnosis(status: DiagnosisStatus, subject: string, message: string): Diagnosis {
  return { status, subject, message };
}
