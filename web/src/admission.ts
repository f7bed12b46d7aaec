/** Admission tokens from the waiting room, per showtime, for this tab (sent as X-Admission-Token). */
const key = (scheduleId: string) => `mos.admission.${scheduleId}`;

export function admissionToken(scheduleId: string): string | undefined {
  return sessionStorage.getItem(key(scheduleId)) ?? undefined;
}

export function keepAdmission(scheduleId: string, token: string | undefined): void {
  if (token) sessionStorage.setItem(key(scheduleId), token);
  else sessionStorage.removeItem(key(scheduleId));
}

export const admissionHeaders = (scheduleId: string): { 'x-admission-token'?: string } => {
  const token = admissionToken(scheduleId);
  return token ? { 'x-admission-token': token } : {};
};
