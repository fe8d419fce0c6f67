// threshold gets one MQTT reading from the messages feed ({topic, payload}
// with the payload {"celsius": N} or a bare number) and the package's limit,
// alertTopic and url. Above the limit it returns the parameters of
// /whisk.system/mqtt/publish, the next action of the sequence: the alert.
// Otherwise it returns an error, which ends the sequence: no alert.
function main(params) {
  const celsius = typeof params.payload === 'number' ? params.payload : (params.payload || {}).celsius;
  const sensor = String(params.topic).split('/')[1];
  if (typeof celsius !== 'number') {
    return { error: `payload: want {"celsius": N} or a number from ${params.topic}, got ${JSON.stringify(params.payload)}` };
  }
  if (celsius <= params.limit) {
    return { error: `below the limit: ${sensor} at ${celsius} °C, limit ${params.limit} °C; no alert` };
  }
  console.log(`alert: ${sensor} at ${celsius} °C, above ${params.limit} °C`);
  return {
    url: params.url,
    topic: params.alertTopic,
    qos: 1,
    message: { sensor, celsius, limit: params.limit, topic: params.topic },
  };
}
