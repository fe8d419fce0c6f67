// summarise gets GitHub's push event as the trigger fired it (the webhook's
// body unchanged: ref, commits, pusher, repository...) and returns a short
// summary of it, also written to the activation's log.
function main(push) {
  const repository = (push.repository || {}).full_name;
  if (!repository || typeof push.ref !== 'string') {
    return { error: `want a GitHub push event (repository.full_name, ref), got the keys ${Object.keys(push).join(', ')}` };
  }
  const [, kind, name] = push.ref.match(/^refs\/(heads|tags)\/(.+)$/) || [, 'ref', push.ref];
  const target = kind === 'heads' ? `branch ${name}` : kind === 'tags' ? `tag ${name}` : name;
  const commits = (push.commits || []).length;
  const pusher = (push.pusher || {}).name || (push.sender || {}).login || 'someone';
  const text = `${pusher} pushed ${commits} commit${commits === 1 ? '' : 's'} to ${target} of ${repository}` +
    (push.deleted ? ' (deleted)' : push.forced ? ' (forced)' : '');
  console.log(text);
  return {
    repository,
    pusher,
    ref: push.ref,
    commits,
    head: (push.head_commit || {}).id || push.after,
    compare: push.compare,
    text,
  };
}
