// Reading parsed YAML/JSON without trusting its shape: a field that is not the expected kind reads as
// empty, so the checks that walk Applications, projects and rendered objects never throw on odd input
// (the finding about the odd field is the policy's job, not a crash's).
export type Obj = Record<string, unknown>;

/** `v` when it is a plain object (not an array, not null), else a fresh empty object. */
export const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** `v` when it is an array, else an empty one. */
export const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
