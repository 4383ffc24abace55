/** Where a job is in its life. Only `queued` and `placed` jobs are picked up by workers (when due). */
export type JobStatus = 'queued' | 'placed' | 'delivered' | 'failed' | 'canceled';

/** A job in one of these has had its receipt decided and is never worked again (a retry is a new job). */
export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['delivered', 'failed', 'canceled'];
