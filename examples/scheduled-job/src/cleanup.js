// cleanup is the nightly job: each alarm fire brings the trigger_payload
// ({job, olderThanDays}); it logs and returns what it deletes (with the
// package's dryRun, what it would delete).
function main(params) {
  const days = Number(params.olderThanDays);
  if (!params.job || !Number.isInteger(days) || days < 1) {
    return { error: `job and olderThanDays (a whole number of days, at least 1) are required, got ${JSON.stringify(params)}` };
  }
  const cutoff = new Date(Date.now() - days * 24 * 3600 * 1000).toISOString();
  const verb = params.dryRun ? 'would delete' : 'deletes';
  console.log(`${params.job}: ${verb} the entries older than ${cutoff}`);
  return { job: params.job, olderThanDays: days, cutoff, dryRun: Boolean(params.dryRun) };
}
