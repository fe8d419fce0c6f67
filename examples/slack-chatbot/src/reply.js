// reply turns a Slack message event into the parameters of /whisk.system/slack/post:
// the channel, the thread, and the answer. Messages from bots (our own replies included)
// and edits get no answer: the sequence stops with an error there, which is logged.
function main(params) {
  const ev = params.event || {};
  if (ev.type !== 'message' || ev.bot_id || ev.subtype) {
    return { error: 'not a user message: nothing to answer' };
  }
  const text = (ev.text || '').trim();
  const answer = /^(hi|hello|hey)\b/i.test(text)
    ? `Hello <@${ev.user}>!`
    : `You said: ${text}`;
  return { channel: ev.channel, thread_ts: ev.thread_ts || ev.ts, text: answer };
}
