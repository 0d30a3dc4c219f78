// Temporary: the error type moved to src/core/gateway-error.ts. This re-export serves the files
// being reworked on other branches (src/calls/, src/server/admission.ts, src/server/routes/admin.ts);
// remove it once they import src/core/ directly.
export * from '../core/gateway-error.ts';
