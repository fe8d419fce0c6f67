// greet builds a greeting from the package's "greeting", the action's
// "punctuation" and the event's "name" and "place".
function main(params) {
  const name = params.name || 'stranger';
  return { text: `${params.greeting} ${name}${params.punctuation} Welcome to ${params.place}.` };
}
