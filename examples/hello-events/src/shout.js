// shout upper-cases what the previous action of the sequence returned.
function main(params) {
  return { text: String(params.text).toUpperCase() };
}
